import CFPMShims
import Glibc
import SystemPackage

/// The controlling terminal as a full-screen view (`fpmctl top`) uses it: keys one at a time
/// without echo, and the previous settings back on the way out.
package struct TerminalMode: Sendable {
    private let fd: Int32
    private let saved: termios

    /// Whether `fd` is a terminal. The corresponding C function is `isatty`.
    package static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Switches `fd` to non-canonical mode without echo: keys arrive one at a time. Ctrl-C
    /// still raises SIGINT (the caller blocks it and reads it from a signalfd, so it can
    /// restore the screen before it quits).
    /// The corresponding C functions are `tcgetattr` and `tcsetattr`.
    package init(rawKeys fd: Int32) throws(SystemError) {
        var current = termios()
        _ = try retrying("tcgetattr") { tcgetattr(fd, &current) }
        self.fd = fd
        self.saved = current
        var raw = current
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        _ = try retrying("tcsetattr") { tcsetattr(fd, TCSANOW, &raw) }
    }

    /// Puts the saved settings back.
    package func restore() {
        var saved = self.saved
        _ = tcsetattr(fd, TCSANOW, &saved)
    }

    /// The terminal's size (rows, columns), or nil when `fd` is not a terminal.
    /// The corresponding C function is `ioctl(TIOCGWINSZ)`.
    package static func size(_ fd: Int32) -> (rows: Int, columns: Int)? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return (Int(size.ws_row), Int(size.ws_col))
    }
}
