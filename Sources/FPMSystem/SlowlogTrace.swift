import CFPMShims
import Glibc
import SystemPackage

/// The slowlog's stack, captured without ptrace: the master signals a worker whose request
/// passed `request_slowlog_timeout`, and the worker's handler (C, async-signal-safe: backtrace,
/// dladdr, write) appends its own backtrace to the slowlog after the header the master wrote.
/// Frames are named from the dynamic symbol table (shared libraries), else from the
/// executable's own `.symtab`, so an app's release build is named with no linker flag unless
/// it is stripped; names are Swift's mangled ones (`swift demangle` reads them).
package enum SlowlogTrace {
    /// The signal the master sends for a trace: SIGURG, whose default action is to ignore it,
    /// so a stray one (or one sent to an exec'd program) does nothing; the handler also ignores
    /// any sender but the master.
    package static var signal: Int32 { CFPM_SLOWLOG_SIGNAL }

    /// Opens the slowlog (O_APPEND, before a privilege drop can forbid it) and installs the
    /// handler writing at most `depth` frames there when `master` asks. `reopenPath` is where a
    /// rotated file is looked for again (nil after a chroot, where the path means something else).
    /// The corresponding C functions are `open`, `backtrace` (a warm-up) and `sigaction`.
    package static func install(path: String, reopenPath: String?, depth: Int, master: pid_t) throws(SystemError) {
        let fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
        let result: Int32
        if let reopenPath {
            result = cfpm_slowlog_install(fd, reopenPath, Int32(clamping: depth), CFPM_SLOWLOG_SIGNAL, master)
        } else {
            result = cfpm_slowlog_install(fd, nil, Int32(clamping: depth), CFPM_SLOWLOG_SIGNAL, master)
        }
        if result != 0 {
            let code = Glibc.errno
            FileIO.close(fd)
            throw SystemError("sigaction(SIGURG)", .init(rawValue: code))
        }
    }

    /// The executable's own function containing `address`, from its `.symtab` (what the
    /// handler falls back on for the frames `dladdr` cannot name: every function of an
    /// executable that exports none), and the offset into it; nil in a stripped binary.
    /// The corresponding C functions are `open`, `mmap` (once) and a scan of the mapped table.
    package static func executableSymbol(at address: UInt) -> (name: String, offset: UInt)? {
        _ = cfpm_exe_symbols_load()
        var offset: UInt = 0
        guard let name = cfpm_exe_symbol(address, &offset) else { return nil }
        return (String(cString: name), offset)
    }

    /// Asks worker `pid` for its stack. The corresponding C function is `kill`.
    package static func request(from pid: pid_t) {
        _ = Glibc.kill(pid, CFPM_SLOWLOG_SIGNAL)
    }
}
