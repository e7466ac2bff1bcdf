import CFPMShims

/// The title `ps` shows for this process: `fpm: master process (/etc/swift-fpm/fpm.conf)`,
/// `fpm: pool www`, written over the argv area as nginx and php-fpm do (the environment
/// strings after it move to the heap to make room), and the kernel's 15-byte name for
/// `top`/`ps -o comm`.
package enum ProcessTitle {
    /// Sets both. `CommandLine.arguments` is read first, so the Swift runtime holds its copy of
    /// the original arguments (a reload re-executes with them) before their memory is reused.
    /// The corresponding C function is `prctl(PR_SET_NAME)`, after a write over argv.
    package static func set(_ title: String, name: String) {
        _ = CommandLine.arguments
        _ = cfpm_proctitle_set(title)
        Processes.setName(name)
    }
}
