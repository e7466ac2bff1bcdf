import FPMConfiguration
import Testing

@Suite struct ExpansionTests {
    @Test func poolIsReplacedByThePoolName() throws {
        let pool = try loadPool("slowlog = /var/log/$pool/$pool.slow\nenv[NAME] = $pool-x")
        #expect(pool.slowlog == "/var/log/www/www.slow")
        #expect(pool.environmentValue("NAME") == "www-x")
    }

    @Test func poolInGlobalIsAnError() {
        #expect(errors("[global]\npid = /run/$pool.pid\n" + minimalPool) == [
            "t.conf:2: pid: can't use '$pool' when the pool is not defined"
        ])
    }

    @Test func environmentVariablesAreExpandedAndUnsetOnesAreEmpty() throws {
        let configuration = try load(
            "[www]\nlisten = 127.0.0.1:${PORT}\npm = static\npm.max_children = 1\nenv[X] = ${UNSET}x\nping.response = \"${PORT}\"\nhandler = info\n",
            environment: ["PORT": "9123"])
        #expect(configuration.pools[0].listen == .tcp(host: "127.0.0.1", port: 9123))
        #expect(configuration.pools[0].environmentValue("X") == "x")
        #expect(configuration.pools[0].pingResponse == "9123")
    }

    @Test func environmentBooleansWork() throws {
        #expect(try loadPool("catch_workers_output = ${FLAG}", environment: ["FLAG": "yes"]).catchWorkersOutput)
    }

    @Test func envDollarValueCopiesTheMasterVariable() throws {
        let pool = try loadPool("env[A] = $HOME\nenv[B] = x$HOME\nenv[C] = $UNSET\nenv[D] = '$HOME'", environment: ["HOME": "/root"])
        #expect(pool.environment == [
            EnvironmentVariable(name: "A", value: "/root", copiedFrom: "HOME"),
            EnvironmentVariable(name: "B", value: "x$HOME"),
            EnvironmentVariable(name: "C", value: "", copiedFrom: "UNSET"),
            EnvironmentVariable(name: "D", value: "$HOME"),
        ])
    }

    @Test func envKeepsQuotedSemicolonsAndLaterAssignmentReplaces() throws {
        let pool = try loadPool("env[Q] = \"a;b\"\nenv[R] = 1\nenv[Q] = c")
        #expect(pool.environment == [EnvironmentVariable(name: "Q", value: "c"), EnvironmentVariable(name: "R", value: "1")])
    }

    @Test func envRules() {
        #expect(poolErrors("env[X] = ") == ["t.conf:6: env[X] = : empty value"])
        #expect(poolErrors("env[X] = \"\"") == ["t.conf:6: env[X] = : empty value"])
        #expect(poolErrors("env[] = x") == ["t.conf:6: env[] = x: You must provide a key for field 'env'"])
        #expect(errors("[global]\nenv[X] = 1\n" + minimalPool) == [
            "t.conf:2: env[X] = 1: Array are not allowed in the global section"
        ])
    }
}
