import Foundation

/// Runs `body` (which starts a child process) with no signal blocked on this thread.
///
/// Foundation's `Process` passes the spawning thread's signal mask on to the child, and test
/// threads block most signals. nginx and fpm set their own masks; lighttpd and httpd do not, so
/// started from a test thread they would never see the SIGTERM that stops them.
func withDefaultSignalMask<T>(_ body: () throws -> T) rethrows -> T {
    var empty = sigset_t()
    var saved = sigset_t()
    sigemptyset(&empty)
    pthread_sigmask(SIG_SETMASK, &empty, &saved)
    defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
    return try body()
}

/// `n` free ports, all different (the kernel may hand a just-freed port out again), none in `taken`.
func distinctFreePorts(_ n: Int, besides taken: Set<Int> = []) -> [Int] {
    var ports: [Int] = []
    while ports.count < n {
        let p = TestSupport.freePort()
        if !ports.contains(p) && !taken.contains(p) { ports.append(p) }
    }
    return ports
}
