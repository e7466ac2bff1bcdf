import Glibc
import SystemPackage

/// A failed system call: which call, and the errno it left. Every wrapper in `System/` throws
/// this, so a log line can always say what failed and why.
package struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    package var call: String
    package var errno: Errno

    package init(_ call: String, _ errno: Errno) {
        self.call = call
        self.errno = errno
    }

    package var description: String { "\(call): \(errno.description) (\(errno.rawValue))" }

    /// The C library's message for an errno value ("No such file or directory"), as php-fpm's
    /// log lines print it.
    /// The corresponding C function is `strerror`.
    package static func message(for code: Int32) -> String {
        strerror(code).map { String(cString: $0) } ?? "Unknown error"
    }
}

/// Runs a call that reports failure as -1 + errno, retrying on EINTR.
@inline(__always)
func retrying<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let r = body()
        if r != -1 { return r }
        let e = Glibc.errno
        if e == EINTR { continue }
        throw SystemError(call, Errno(rawValue: e))
    }
}

/// Like `retrying`, for calls where EINTR must be reported (a wait that should be re-evaluated).
@inline(__always)
func checked<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> T {
    let r = body()
    if r == -1 { throw SystemError(call, Errno(rawValue: Glibc.errno)) }
    return r
}
