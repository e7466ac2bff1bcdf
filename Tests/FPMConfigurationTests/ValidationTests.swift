import FPMConfiguration
import Testing

/// php-fpm's post-processing rules, each pointing at the line that set the directive, or at the
/// pool's section header (line 1 here) when it was never set.
@Suite struct ValidationTests {
    static let dynamicPool = """
        [www]
        listen = 127.0.0.1:9000
        pm = dynamic
        pm.max_children = 5
        handler = info

        """

    func dynamic(_ lines: String) -> [String] { errors(Self.dynamicPool + lines + "\n") }

    @Test func processManagerIsRequired() {
        #expect(errors("[www]\nlisten = 9000\npm.max_children = 1\nhandler = info\n") == [
            "t.conf:1: pm: the process manager is missing (static, dynamic or ondemand)"
        ])
    }

    @Test func maxChildrenMustBePositive() {
        #expect(errors("[www]\nlisten = 9000\npm = static\nhandler = info\n") == ["t.conf:1: pm.max_children: must be set to a positive value"])
        #expect(errors("[www]\nlisten = 9000\npm = static\npm.max_children = -1\nhandler = info\n") == [
            "t.conf:4: pm.max_children = -1: pm.max_children must be a positive value"
        ])
    }

    @Test func listenIsRequired() {
        #expect(errors("[www]\npm = static\npm.max_children = 1\nhandler = info\n") == ["t.conf:1: listen: no listen address have been defined!"])
    }

    @Test func dynamicSpareServersMustBePositive() {
        #expect(dynamic("pm.max_spare_servers = 3") == [
            "t.conf:1: pm.min_spare_servers: pm.min_spare_servers(0) must be a positive value"
        ])
        #expect(dynamic("pm.min_spare_servers = 1\npm.max_spare_servers = 0") == [
            "t.conf:7: pm.max_spare_servers = 0: pm.max_spare_servers(0) must be a positive value"
        ])
    }

    @Test func spareServersCannotExceedMaxChildren() {
        #expect(dynamic("pm.min_spare_servers = 6\npm.max_spare_servers = 7") == [
            "t.conf:6: pm.min_spare_servers = 6: cannot be greater than pm.max_children (5)",
            "t.conf:7: pm.max_spare_servers = 7: cannot be greater than pm.max_children (5)",
        ])
    }

    @Test func maxSpareCannotBeLessThanMinSpare() {
        #expect(dynamic("pm.min_spare_servers = 4\npm.max_spare_servers = 3") == [
            "t.conf:7: pm.max_spare_servers = 3: must not be less than pm.min_spare_servers (4)"
        ])
    }

    @Test func startServersMustBeBetweenTheSpareBounds() {
        #expect(dynamic("pm.min_spare_servers = 1\npm.max_spare_servers = 3\npm.start_servers = 4") == [
            "t.conf:8: pm.start_servers = 4: must be between pm.min_spare_servers (1) and pm.max_spare_servers (3)"
        ])
    }

    @Test func unsetStartServersIsDerivedWithANotice() throws {
        let configuration = try load(Self.dynamicPool + "pm.min_spare_servers = 1\npm.max_spare_servers = 4\n")
        #expect(configuration.pools[0].startServers == 2)
        #expect(configuration.warnings.map(\.description) == [
            "t.conf:1: pm.start_servers: pm.start_servers is not set. It's been set to 2."
        ])
        #expect(configuration.warnings.first?.severity == .notice)
    }

    @Test func maxSpawnRateMustBePositive() {
        #expect(errors(minimalPool + "pm.max_spawn_rate = 0\n") == [
            "t.conf:6: pm.max_spawn_rate = 0: pm.max_spawn_rate must be a positive value"
        ])
    }

    @Test func ondemandNeedsAnIdleTimeoutAndZeroesSpareSettings() throws {
        #expect(errors("[www]\nlisten = 9000\npm = ondemand\npm.max_children = 2\npm.process_idle_timeout = 0\nhandler = info\n") == [
            "t.conf:5: pm.process_idle_timeout = 0s: pm.process_idle_timeout(0s) must be greater than 0s"
        ])
        let pool = try load("[www]\nlisten = 9000\npm = ondemand\npm.max_children = 2\npm.start_servers = 9\nhandler = info\n").pools[0]
        #expect(pool.startServers == 0 && pool.minSpareServers == 0 && pool.maxSpareServers == 0)
    }

    @Test func statusAndPingPathRules() {
        #expect(poolErrors("pm.status_path = status") == ["t.conf:6: pm.status_path = status: the status path 'status' must start with a '/'"])
        #expect(poolErrors("pm.status_path = /") == ["t.conf:6: pm.status_path = /: the status path '/' is not long enough"])
        #expect(poolErrors("ping.path = \"/p p\"") == [
            "t.conf:6: ping.path = /p p: the ping path '/p p' must contain only the following characters '[alphanum]/_-.~'"
        ])
        #expect(poolErrors("ping.path = /ping\nping.response = \"\"") == [
            "t.conf:7: ping.response = \"\": the ping response page '' is not long enough"
        ])
    }

    @Test func slowlogRules() {
        #expect(poolErrors("request_slowlog_timeout = 5") == [
            "t.conf:6: request_slowlog_timeout = 5s: 'slowlog' must be specified for use with 'request_slowlog_timeout'"
        ])
        #expect(poolErrors("slowlog = /tmp/s.log\nrequest_slowlog_timeout = 5m\nrequest_terminate_timeout = 10") == [
            "t.conf:7: request_slowlog_timeout = 5m: can't be greater than request_terminate_timeout (10s)"
        ])
        #expect(poolErrors("request_slowlog_trace_depth = 0") == [
            "t.conf:6: request_slowlog_trace_depth = 0: must be a positive value"
        ])
    }

    @Test func priorityRange() {
        #expect(poolErrors("process.priority = 21") == ["t.conf:6: process.priority = 21: process.priority must be included into [-19,20]"])
        #expect(errors("[global]\nprocess.priority = -20\n" + minimalPool) == [
            "t.conf:2: process.priority = -20: process.priority must be included into [-19,20]"
        ])
    }

    @Test func globalLimits() {
        #expect(errors("[global]\nlog_limit = 100\n" + minimalPool) == ["t.conf:2: log_limit = 100: log_limit must be greater than 512"])
        #expect(errors("[global]\nprocess.max = -1\n" + minimalPool) == ["t.conf:2: process.max = -1: process_max can't be negative"])
    }

    @Test func atLeastOnePoolIsRequired() {
        #expect(errors("[global]\npid = /run/x.pid\n") == [
            "t.conf: No pool defined. at least one pool section must be specified in config file"
        ])
    }

    @Test func listenAddressesMustBeUniqueAcrossPools() {
        #expect(errors(minimalPool + "[two]\nlisten = 127.0.0.1:9000\npm = static\npm.max_children = 1\nhandler = info\n") == [
            "t.conf:7: listen = 127.0.0.1:9000: unable to set listen address as it's already used in another pool 'www'"
        ])
        #expect(errors(minimalPool + "pm.status_listen = 9001\n[two]\nlisten = 9001\npm = static\npm.max_children = 1\nhandler = info\n") == [
            "t.conf:8: listen = 9001: unable to set listen address as it's already used in another pool 'www'"
        ])
    }

    @Test func directoriesMustExist() {
        let fileSystem = ConfigurationFileSystem.system
        #expect(errors(minimalPool + "prefix = /nonexistent-prefix\n", fileSystem: fileSystem) == [
            "t.conf:6: prefix = /nonexistent-prefix: the prefix '/nonexistent-prefix' does not exist or is not a directory"
        ])
        #expect(errors(minimalPool + "chroot = /nonexistent-root\n", fileSystem: fileSystem) == [
            "t.conf:6: chroot = /nonexistent-root: the chroot path '/nonexistent-root' does not exist or is not a directory"
        ])
        #expect(errors(minimalPool + "chroot = relative\n", fileSystem: fileSystem) == [
            "t.conf:6: chroot = relative: the chroot path 'relative' must start with a '/'"
        ])
        #expect(errors(minimalPool + "chroot = /tmp\nchdir = /nonexistent-dir\n", fileSystem: fileSystem) == [
            "t.conf:7: chdir = /nonexistent-dir: the chdir path '/tmp/nonexistent-dir' does not exist or is not a directory"
        ])
        #expect(errors(minimalPool + "prefix = /tmp\nchroot = $prefix\nchdir = /\n", fileSystem: fileSystem) == [])
    }

    @Test func accountsMustExist() {
        let fileSystem = ConfigurationFileSystem.system
        #expect(errors(minimalPool + "user = nosuchuser-fpm\ngroup = nosuchgroup-fpm\nlisten.owner = 0\nlisten.group = root\n", fileSystem: fileSystem) == [
            "t.conf:6: user = nosuchuser-fpm: cannot get uid for user 'nosuchuser-fpm'",
            "t.conf:7: group = nosuchgroup-fpm: cannot get gid for group 'nosuchgroup-fpm'",
        ])
        #expect(errors(minimalPool + "listen.owner = nosuchowner-fpm\n", fileSystem: fileSystem) == [
            "t.conf:6: listen.owner = nosuchowner-fpm: cannot get uid for user 'nosuchowner-fpm'"
        ])
    }

    @Test func aPoolWithNeitherHandlerNorExecIsAnErrorNamingBoth() {
        #expect(errors(minimalExecPool) == [
            "t.conf:1: handler: the pool has neither 'handler' nor 'exec': set 'handler = NAME' (a built-in handler such as info or cgi, or one the app registers) or 'exec = PROGRAM' (an external FastCGI program run as the workers)"
        ])
        #expect(errors(minimalExecPool + "handler = info\n") == [])
        #expect(errors(minimalExecPool + "exec = /bin/true\n") == [])
    }

    @Test func handlerAndExecAreMutuallyExclusive() {
        #expect(poolErrors("exec = /bin/true\nhandler = echo") == ["t.conf:7: handler = echo: cannot be used together with exec (set at t.conf:6)"])
        #expect(errors(minimalExecPool + "exec = /nonexistent/program\n", fileSystem: .system) == [
            "t.conf:5: exec = /nonexistent/program: '/nonexistent/program' is not an executable file"
        ])
    }

    @Test func accessFormatGoesThroughTheValidatorHook() {
        let validator: ConfigurationLoader.AccessFormatValidator = { format in
            format.contains("%Z") ? "Invalid token in the access.format (%Z)" : nil
        }
        #expect(errors(minimalPool + "access.log = /tmp/a.log\naccess.format = \"%R %Z\"\n", accessFormatValidator: validator) == [
            "t.conf:7: access.format = %R %Z: Invalid token in the access.format (%Z)"
        ])
        #expect(errors(minimalPool + "access.log = /tmp/a.log\n", accessFormatValidator: validator) == [])
    }

    @Test func errorsOfSeveralPoolsAreAllReported() {
        let text = "[a]\nlisten = 9000\npm = static\nhandler = info\n[b]\nlisten = 9001\npm = static\npm.max_children = 0\nhandler = info\n"
        #expect(errors(text) == [
            "t.conf:1: pm.max_children: must be set to a positive value",
            "t.conf:8: pm.max_children = 0: pm.max_children must be a positive value",
        ])
    }
}
