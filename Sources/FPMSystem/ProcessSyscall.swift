import CFPMShims
import Glibc

extension Processes {
    /// Whether `pid` is blocked in accept(2) right now, from `/proc/PID/syscall` (readable by
    /// the process's parent): how the master tells an exec'd FastCGI program waiting for a
    /// request from one serving it. False when it is on a CPU or in another call; nil when the
    /// kernel does not tell (no such process, no permission).
    /// The corresponding C function is a read of `/proc/PID/syscall`.
    package static func isBlockedInAccept(_ pid: pid_t) -> Bool? {
        guard let bytes = FileIO.readFile("/proc/\(pid)/syscall", limit: 256), !bytes.isEmpty else { return nil }
        let first = bytes.prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") }
        // "running" (on a CPU) or "-1" (blocked outside a system call): not waiting in accept.
        guard let number = Int(String(decoding: first, as: UTF8.self)) else { return false }
        return cfpm_is_accept_syscall(number) != 0
    }
}
