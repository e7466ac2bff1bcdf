import Glibc

extension Processes {
    /// `waitpid(pid, WNOHANG)`: how one given child ended, or nil while it still runs (or when
    /// it is not a child of this process). For a child the caller waits on by itself, such as a
    /// pool's preparation.
    package static func reap(_ pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        while true {
            let result = Glibc.waitpid(pid, &status, WNOHANG)
            if result == pid { return ExitStatus(raw: status) }
            if result == -1 && errno == EINTR { continue }
            return nil
        }
    }
}
