import CFPMShims
import Glibc
import SystemPackage

/// Signal masks, dispositions and the master's signalfd.
package enum Signals {
    /// The signals the master turns into events instead of handling asynchronously.
    package static let masterSignals: [Int32] = [SIGCHLD, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGHUP, drain, undrain]

    /// `fpmctl drain` and `fpmctl undrain`: real-time signals, since every classic one already
    /// means something to php-fpm's users. (SIGRTMIN + 2 is the workers' slow-request timer.)
    /// A master that predates them would die of one: fpmctl sends them only to a master whose
    /// state file has the `draining` key.
    package static var drain: Int32 { cfpm_sigrtmin() + 4 }
    package static var undrain: Int32 { cfpm_sigrtmin() + 5 }

    package static func name(_ s: Int32) -> String {
        switch s {
        case SIGHUP: return "SIGHUP"
        case SIGINT: return "SIGINT"
        case SIGQUIT: return "SIGQUIT"
        case SIGILL: return "SIGILL"
        case SIGTRAP: return "SIGTRAP"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL"
        case SIGUSR1: return "SIGUSR1"
        case SIGSEGV: return "SIGSEGV"
        case SIGUSR2: return "SIGUSR2"
        case SIGPIPE: return "SIGPIPE"
        case SIGALRM: return "SIGALRM"
        case SIGTERM: return "SIGTERM"
        case SIGCHLD: return "SIGCHLD"
        case SIGXCPU: return "SIGXCPU"
        case drain: return "SIGRTMIN+4 (drain)"
        case undrain: return "SIGRTMIN+5 (undrain)"
        default: return "signal \(s)"
        }
    }

    static func makeSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        return set
    }

    /// Blocks `signals` in this thread (the master's only thread).
    package static func block(_ signals: [Int32]) throws(SystemError) {
        var set = makeSet(signals)
        _ = try checked("sigprocmask") { sigprocmask(SIG_BLOCK, &set, nil) }
    }

    /// Unblocks every signal: what a worker or an exec'd program must start with.
    package static func unblockAll() {
        _ = cfpm_sigqueue_empty_mask()
    }

    /// Restores the default disposition of every catchable signal (after fork, before exec).
    package static func resetDispositions() {
        for s in Int32(1)..<Int32(32) where s != SIGKILL && s != SIGSTOP {
            _ = cfpm_sigaction_default(s)
        }
    }

    package static func ignore(_ s: Int32) {
        _ = cfpm_sigaction_ignore(s)
    }

    package static func setDefault(_ s: Int32) {
        _ = cfpm_sigaction_default(s)
    }

    /// Installs a C handler; `restart` adds SA_RESTART.
    package static func handle(_ s: Int32, restart: Bool, _ handler: @convention(c) (Int32) -> Void) {
        _ = cfpm_sigaction_handler(s, handler, restart ? Int32(SA_RESTART) : 0)
    }

    /// The current disposition of `s` (handler, flags, mask), to be put back with `restore`.
    /// The corresponding C function is `sigaction`.
    package static func disposition(_ s: Int32) throws(SystemError) -> SignalDisposition {
        var action = sigaction()
        _ = try checked("sigaction(\(s))") { sigaction(s, nil, &action) }
        return SignalDisposition(action: action)
    }

    /// Puts back a disposition `disposition(_:)` saved. No allocation: async-signal-safe, a
    /// handler may call it.
    /// The corresponding C function is `sigaction`.
    package static func restore(_ s: Int32, _ saved: SignalDisposition) {
        var action = saved.action
        _ = sigaction(s, &action, nil)
    }

    /// Sends `s` to this thread; its disposition runs before this returns. Async-signal-safe.
    /// The corresponding C function is `raise`.
    package static func raise(_ s: Int32) {
        _ = Glibc.raise(s)
    }

    /// A non-blocking, close-on-exec signalfd for `signals` (which must be blocked).
    package static func makeSignalFD(_ signals: [Int32]) throws(SystemError) -> Int32 {
        var set = makeSet(signals)
        return try checked("signalfd") { cfpm_signalfd(-1, &set, CFPM_SFD_CLOEXEC | CFPM_SFD_NONBLOCK) }
    }

    /// Drains a signalfd: every pending signal number, in arrival order.
    package static func readSignals(_ fd: Int32) -> [Int32] {
        var result: [Int32] = []
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while true {
            let n = Glibc.read(fd, &info, size)
            if n == size {
                result.append(Int32(info.ssi_signo))
            } else if n == -1 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        return result
    }
}

/// A signal's disposition as `sigaction` reported it: plain data (no references), so it can sit
/// in a global a signal handler reads.
package struct SignalDisposition {
    fileprivate var action: sigaction
}
