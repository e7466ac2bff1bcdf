/// The process exit codes the master, its launcher and its workers use: php-fpm's, which are
/// sysexits(3) values, so a supervisor reads them the same way.
package enum ExitCodes {
    package static let ok: Int32 = 0
    /// A bad command line.
    package static let usage: Int32 = 64
    /// Something failed that is not the configuration's fault (fork, a handler's setUp, exec).
    package static let software: Int32 = 70
    /// The configuration (or what it names: a user, a log file, a port) cannot be used.
    package static let config: Int32 = 78
}
