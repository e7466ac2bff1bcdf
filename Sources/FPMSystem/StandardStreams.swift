import CFPMShims
import Glibc

/// A worker's stdout and stderr: pipes the master reads (`catch_workers_output = yes`) or
/// /dev/null, as php-fpm does.
package enum StandardStreams {
    /// Points descriptors 1 and 2 at `stdout` and `stderr`, and makes C's `stdout` (what
    /// Swift's `print` writes through) line-buffered, so each line reaches the pipe when it is
    /// printed rather than when 4 KiB have gathered or never (a worker leaves with `_exit`).
    /// The corresponding C functions are `dup2` and `setvbuf`.
    package static func redirect(stdout: Int32, stderr: Int32) throws(SystemError) {
        try FileIO.dup2(stdout, 1)
        try FileIO.dup2(stderr, 2)
        _ = cfpm_stdout_line_buffered()
    }

    /// Both to /dev/null. The corresponding C functions are `open` and `dup2`.
    package static func discard() throws(SystemError) {
        let null = try FileIO.open("/dev/null", O_WRONLY)
        defer { FileIO.close(null) }
        try FileIO.dup2(null, 1)
        try FileIO.dup2(null, 2)
    }

    /// A copy of descriptor 2 at a number above 2 (close-on-exec), for a log that wrote to
    /// stderr and must keep its destination once stderr becomes a pipe or /dev/null.
    /// The corresponding C function is `fcntl(F_DUPFD_CLOEXEC)`.
    package static func duplicateStandardError() throws(SystemError) -> Int32 {
        try retrying("fcntl(F_DUPFD_CLOEXEC)") { Glibc.fcntl(2, F_DUPFD_CLOEXEC, 3) }
    }
}
