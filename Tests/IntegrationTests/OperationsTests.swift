import FastCGI
import FastCGIClient
import Foundation
import Testing

/// What an operator sees of running workers, through the real binary: their stdout and stderr
/// in the error log (catch_workers_output), the slowlog's stack, and the process titles.
@Suite(.serialized) struct OperationsTests {
    @Test func aSwiftFatalErrorsMessageIsInTheErrorLogBeforeTheWorkersExit() throws {
        let server = try FPMServer(pool: "catch_workers_output = yes")
        #expect(try server.request("/crash").status == 500)
        #expect(server.waitForLog("exited on signal"))
        let log = server.log
        let said = try #require(log.range(of: "said into stderr: \""), "\(log)")
        let line = log[log.lineRange(for: said)]
        #expect(line.contains("WARNING: [pool www] child "), "\(line)")
        #expect(line.contains("Fatal error: crash requested by the test\"\n"), "\(line)")
        #expect(line.contains("main.swift:"), "\(line)")
        // The message comes before its worker's exit line.
        let exit = try #require(log.range(of: "exited on signal 4 (SIGILL)") ?? log.range(of: "exited on signal 5 (SIGTRAP)"))
        #expect(said.lowerBound < exit.lowerBound)
    }

    @Test func stdoutAndStderrLinesAreWrappedAtLogLimit() throws {
        let server = try FPMServer(global: "log_limit = 600", pool: "catch_workers_output = yes\npm.max_children = 1")
        #expect(try server.request("/say?to=stdout&text=printed").status == 200)
        #expect(server.waitForLog("said into stdout: \"printed\"\n"))
        #expect(try server.request("/say?text=a&times=1500").status == 200)
        #expect(server.waitForLog("aaa\"\n"))
        #expect(TestSupport.waitUntil { server.log.split(separator: "\n").filter { $0.contains("said into stderr: \"a") }.count == 3 })
        let entries = server.log.split(separator: "\n").filter { $0.contains("said into stderr: \"a") }
        // Every entry but the last fills log_limit exactly (newline included), as php-fpm's.
        #expect(entries.map { $0.utf8.count + 1 }.prefix(2) == [600, 600])
        let carried = entries.map { $0.split(separator: "\"")[1].count }.reduce(0, +)
        #expect(carried == 1500)
    }

    @Test func whatAPreviousGenerationSaysAfterAReloadIsStillLogged() throws {
        let server = try FPMServer(pool: "catch_workers_output = yes\npm.max_children = 1")
        #expect(server.waitForWorkers(1))
        let old = try #require(server.workers.first)
        let port = server.port
        let answer = UncheckedBox(ResultBox())
        let task = BackgroundTask {
            guard let c = try? FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 20) else { return }
            defer { c.close() }
            answer.value.result = try? c.request(params: TestSupport.params(uri: "/say?ms=1500&text=said-after-the-reload"))
        }
        #expect(server.waitUntilActive(1))
        server.child.signal(SIGUSR2)
        #expect(server.waitForLog("reloaded: generation 2", timeout: 20))
        #expect(task.wait(timeout: 20))
        #expect(answer.value.result?.status == 200)
        #expect(server.waitForLog("[pool www] child \(old) said into stderr: \"said-after-the-reload\""), "\(server.log)")
    }

    @Test func aWorkerFloodingItsOutputDoesNotStallTheMaster() throws {
        let server = try FPMServer(pool: "catch_workers_output = yes")
        #expect(server.waitForWorkers(2))
        let port = server.port
        let flood = UncheckedBox(ResultBox())
        // 20 MB on stderr in 1000-byte lines: seconds of logging for the master.
        let text = String(repeating: "f", count: 1000)
        let task = BackgroundTask {
            guard let c = try? FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 60) else { return }
            defer { c.close() }
            flood.value.result = try? c.request(params: TestSupport.params(uri: "/say?times=20000&text=\(text)"))
        }
        #expect(server.waitForLog("said into stderr: \"fff"))
        // The other worker crashes meanwhile: the master reaps and replaces it during the flood.
        #expect(try server.request("/crash").status == 500)
        #expect(task.wait(timeout: 60))
        #expect(flood.value.result?.status == 200)
        let log = server.log
        let exit = try #require(log.range(of: "exited on signal"))
        let lastFlood = try #require(log.range(of: "said into stderr: \"fff", options: .backwards))
        #expect(exit.lowerBound < lastFlood.lowerBound, "the crash was handled only after the flood")
    }

    @Test func aLineWithoutItsEndIsLoggedAfterASecondOrAtOnceWithoutBuffering() throws {
        let buffered = try FPMServer(pool: "catch_workers_output = yes")
        #expect(try buffered.request("/say?newline=0&text=no-end-yet").status == 200)
        #expect(buffered.waitForLog("said into stderr: \"no-end-yet\"\n"))
        let direct = try FPMServer(global: "log_buffering = no", pool: "catch_workers_output = yes")
        #expect(try direct.request("/say?newline=0&text=written-as-read").status == 200)
        #expect(direct.waitForLog("said into stderr: \"written-as-read\"\n", timeout: 0.9))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/php-cgi8.2"), "php8.2-cgi is not installed (make deps)"))
    func anExecPoolsStderrIsCaughtToo() throws {
        let server = try FPMServer(name: "php", pools: """
        [php]
        listen = 127.0.0.1:{{PORT}}
        pm = static
        pm.max_children = 1
        exec = "php-cgi8.2 -d extension=swift_fpm_no_such_extension"
        catch_workers_output = yes
        """, binary: TestSupport.fpmPath)
        #expect(server.waitForLog("[pool php] child \(server.workers.first ?? 0) said into stderr: \"PHP Warning:  PHP Startup: Unable to load dynamic library 'swift_fpm_no_such_extension'"),
                "\(server.log)")
    }

    @Test func undecoratedOutputIsTheBareText() throws {
        let server = try FPMServer(pool: "catch_workers_output = yes\ndecorate_workers_output = no")
        #expect(try server.request("/say?text=bare-line-from-the-worker").status == 200)
        #expect(server.waitForLog("\nbare-line-from-the-worker\n"))
        #expect(!server.log.contains("said into"))
    }

    @Test func withoutCatchingTheOutputGoesNowhere() throws {
        let server = try FPMServer(pool: "catch_workers_output = no")
        #expect(try server.request("/say?text=lost-line").status == 200)
        #expect(try server.request("/crash").status == 500)
        #expect(server.waitForLog("exited on signal"))
        #expect(!server.log.contains("lost-line"))
        #expect(!server.child.stderr.contains("lost-line"))
        #expect(!server.child.stderr.contains("crash requested by the test"))
    }

    @Test func aSlowRequestsSlowlogEntryHasTheWorkersStack() throws {
        let server = try FPMServer(pool: """
            slowlog = {{DIR}}/slow.log
            request_slowlog_timeout = 1
            request_slowlog_trace_depth = 12
            """)
        let r = try server.request("/sleep?ms=1800", timeout: 20)
        #expect(r.status == 200)
        let path = server.dir + "/slow.log"
        #expect(TestSupport.waitUntil { TestSupport.read(path).contains("slowRouteSleep") }, "\(TestSupport.read(path))")
        let entry = TestSupport.read(path)
        let lines = entry.split(separator: "\n", omittingEmptySubsequences: false)
        // php-fpm's header, the master's request line, then one frame a line.
        #expect(lines.first == "")
        #expect(lines.count > 1 && lines[1].hasSuffix("]  [pool www] pid \(r.header("X-Worker-PID") ?? "?")"), "\(entry)")
        let frames = lines.filter { $0.hasPrefix("[0x") }
        #expect(frames.count >= 3 && frames.count <= 12, "\(entry)")
        // The handler's own function is named, in the test app's executable.
        #expect(frames.contains { $0.contains("slowRouteSleep") && $0.contains("fpm-testapp") }, "\(entry)")
        #expect(frames.contains { $0.contains("TestApp") && $0.contains("handle") }, "\(entry)")
        #expect(server.log.contains("executing too slow"))
    }

    @Test func psShowsTheMasterAndPoolTitlesAcrossAReload() throws {
        let server = try FPMServer(pool: "catch_workers_output = yes")
        #expect(server.waitForWorkers(2))
        func title(_ pid: Int32) -> String {
            TestSupport.read("/proc/\(pid)/cmdline").split(separator: "\0").first.map(String.init) ?? ""
        }
        #expect(title(server.pid) == "fpm: master process (\(server.configPath))")
        #expect(TestSupport.read("/proc/\(server.pid)/comm") == "fpm: master\n")
        // A worker names itself just after its fork: on a loaded machine the fork may be seen first.
        for worker in server.workers {
            #expect(TestSupport.waitUntil(timeout: 5) { title(worker) == "fpm: pool www" })
            #expect(TestSupport.read("/proc/\(worker)/comm") == "fpm: www\n")
        }
        // A reload re-executes the master in place with its original arguments.
        let before = Set(server.workers)
        server.child.signal(SIGUSR2)
        #expect(server.waitForLog("generation 2 is serving", timeout: 20))
        #expect(TestSupport.waitUntil { let now = server.workers; return now.count == 2 && Set(now).isDisjoint(with: before) })
        #expect(title(server.pid) == "fpm: master process (\(server.configPath))")
        for worker in server.workers { #expect(TestSupport.waitUntil(timeout: 5) { title(worker) == "fpm: pool www" }) }
        #expect(try server.request("/pid").status == 200)
    }
}
