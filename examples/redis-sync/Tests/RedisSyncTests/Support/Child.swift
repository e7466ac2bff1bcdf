import Foundation

/// A server the test starts and stops by pid. Spawned with posix_spawn and an empty signal
/// mask: the test runner's threads block most signals and Foundation's Process passes that
/// mask on, so a server started through it never sees the SIGTERM that should stop it.
final class Child {
    let pid: pid_t
    private var status: Int32?

    init(_ path: String, _ arguments: [String], environment: [String], output: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw Services.Failure(description: "posix_spawn \(path): \(rc)") }
        self.pid = pid
    }

    /// Its exit code once it has ended (128 + the signal when a signal ended it).
    var exitStatus: Int32? {
        guard !isRunning, let status else { return nil }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Whether it still runs (reaps it when it has ended).
    var isRunning: Bool {
        if status != nil { return false }
        var s: Int32 = 0
        if waitpid(pid, &s, WNOHANG) == pid { status = s; return false }
        return true
    }

    func signal(_ signal: Int32) { if isRunning { kill(pid, signal) } }

    /// `signal`, then up to 20 s for it to end, then SIGKILL.
    func stop(_ signal: Int32 = SIGTERM) {
        guard isRunning else { return }
        kill(pid, signal)
        if !Services.waitUntil(timeout: 20, { !self.isRunning }) {
            kill(pid, SIGKILL)
            _ = Services.waitUntil(timeout: 5, { !self.isRunning })
        }
    }
}
