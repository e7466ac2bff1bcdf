import FastCGI
import Foundation
import Synchronization
import Testing

/// pm.warm_template through the real binary: the template runs warmUp once and forks the
/// workers, which are the master's children (ppid in /proc, `/warm`'s own getppid); killing the
/// template makes a new one while the workers go on; a reload makes a new template for the new
/// generation and ends the old; a warmUp that throws refuses the start naming the pool; the
/// workers share the warm-up's table (their PSS sum far below N copies).
///
/// The test app's warmUp (Tests/Fixtures/TestApp/WarmRoute.swift) appends "warm PID" to
/// env[TESTAPP_EVENTS], builds env[TESTAPP_WARM_MB] MiB, throws with env[TESTAPP_WARM_FAIL].
@Suite struct WarmTemplateTests {
    static func pool(children: Int = 3, megabytes: Int = 8, extra: String = "") -> String {
        FPMServer.pool("""
        pm.warm_template = yes
        env[TESTAPP_EVENTS] = {{DIR}}/events
        env[TESTAPP_WARM_MB] = \(megabytes)
        \(extra)
        """, children: children)
    }

    func events(_ server: FPMServer) -> [String] {
        TestSupport.read(server.dir + "/events").split(separator: "\n").map(String.init)
    }

    /// The pids of "warm template PID started" lines, in order.
    func templates(_ server: FPMServer) -> [Int32] {
        server.log.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "warm template "), line.hasSuffix(" started") else { return nil }
            return Int32(line[range.upperBound...].split(separator: " ").first ?? "")
        }
    }

    static func parent(of pid: Int32) -> Int32? {
        let status = TestSupport.read("/proc/\(pid)/status")
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("PPid:") }) else { return nil }
        return Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
    }

    /// Proportional set size in kB (/proc/PID/smaps_rollup).
    static func pss(of pid: Int32) -> Int {
        let text = TestSupport.read("/proc/\(pid)/smaps_rollup")
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Pss:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    func setUpPIDs(_ server: FPMServer) -> [Int32] {
        events(server).filter { $0.hasPrefix("setup ") }.compactMap { Int32($0.dropFirst(6)) }
    }

    @Test func workersAreTheMastersChildrenAndATemplateCrashOrAReloadMakesANewOne() throws {
        let server = try FPMServer(pools: Self.pool())
        defer { server.stop() }
        // Three workers and the template, all the master's children.
        #expect(server.waitForWorkers(4))
        #expect(TestSupport.waitUntil { setUpPIDs(server).count == 3 })
        let first = events(server)
        #expect(first.first?.hasPrefix("warm ") == true, "\(first)")
        #expect(first.filter { $0.hasPrefix("warm ") }.count == 1)
        let template = try #require(templates(server).first)
        #expect(first.first == "warm \(template)")
        #expect(template != server.pid)
        // fpmctl status shows it under the pool.
        #expect(TestSupport.waitUntil {
            ((try? server.fpmctl(["status", "--pid", server.pidPath]))?.stdout ?? "").contains("warm template:        pid \(template), warmUp ")
        })
        for worker in setUpPIDs(server) { #expect(Self.parent(of: worker) == server.pid) }
        let answer = try server.request("/warm").bodyText
        #expect(answer.hasPrefix("warm sum 262144 pid "), "\(answer)")
        #expect(answer.hasSuffix(" ppid \(server.pid)\n"), "\(answer)")

        // The template dies: a new one is made, warmed up; the workers go on.
        let workers = Set(setUpPIDs(server))
        kill(template, SIGKILL)
        #expect(TestSupport.waitUntil { templates(server).count == 2 })
        #expect(TestSupport.waitUntil { events(server).filter { $0.hasPrefix("warm ") }.count == 2 })
        #expect(server.log.contains("[pool www] warm template \(template) exited on signal 9 (SIGKILL); a new one is made"))
        for worker in workers { #expect(TestSupport.isAlive(worker)) }
        #expect(try server.request("/pid").status == 200)
        // A worker that dies is replaced through the new template, again the master's child.
        let victim = try #require(workers.first)
        kill(victim, SIGKILL)
        #expect(TestSupport.waitUntil { setUpPIDs(server).count == 4 })
        let replacement = try #require(setUpPIDs(server).last)
        #expect(!workers.contains(replacement))
        #expect(Self.parent(of: replacement) == server.pid)
        let second = try #require(templates(server).last)
        #expect(Self.parent(of: second) == server.pid)

        // A reload: the old template ends with its generation, the new one is the new code's.
        let reload = try server.fpmctl(["reload", "--pid", server.pidPath])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(TestSupport.waitUntil { templates(server).count == 3 && setUpPIDs(server).count == 7 })
        #expect(TestSupport.waitUntil { !TestSupport.isAlive(second) || TestSupport.isZombieOrGone(second) })
        let third = try #require(templates(server).last)
        #expect(Self.parent(of: third) == server.pid)
        #expect(TestSupport.waitUntil { server.workers.count == 4 })
        for worker in setUpPIDs(server).suffix(3) { #expect(Self.parent(of: worker) == server.pid) }
        #expect(try server.request("/warm").bodyText.hasSuffix(" ppid \(server.pid)\n"))
        #expect(!server.log.contains("unknown child"), "\(server.log)")
    }

    @Test func aReplacementTemplatesWarmUpDoesNotStallTheMaster() throws {
        let server = try FPMServer(pools: Self.pool(children: 2, extra: "env[TESTAPP_WARM_SLEEP_MS] = 2000"))
        defer { server.stop() }
        #expect(TestSupport.waitUntil { setUpPIDs(server).count == 2 })
        let template = try #require(templates(server).first)
        let victim = try #require(setUpPIDs(server).first)
        kill(template, SIGKILL)
        kill(victim, SIGKILL)
        #expect(TestSupport.waitUntil { templates(server).count == 2 })
        let asked = Date()
        // The master answers while the new template sleeps in its warmUp (2 s): a log reopen
        // is carried out and reported, and the replacement worker is held meanwhile.
        let reopen = try server.fpmctl(["reopen", "--pid", server.pidPath])
        #expect(reopen.status == 0, "\(reopen.stderr)")
        #expect(Date().timeIntervalSince(asked) < 1.5)
        #expect(setUpPIDs(server).count == 2)
        #expect(try server.request("/pid").status == 200)
        // Ready: the held worker is forked from it, the master's child.
        #expect(TestSupport.waitUntil(timeout: 10) { setUpPIDs(server).count == 3 })
        let replacement = try #require(setUpPIDs(server).last)
        #expect(Self.parent(of: replacement) == server.pid)
        #expect(TestSupport.waitUntil { server.workers.count == 3 })
    }

    @Test func aTemplateForkedWorkersOutputAndLogReachTheMaster() throws {
        let server = try FPMServer(pools: Self.pool(children: 1, extra: "catch_workers_output = yes"))
        defer { server.stop() }
        #expect(TestSupport.waitUntil { setUpPIDs(server).count == 1 })
        let worker = try #require(setUpPIDs(server).first)
        #expect(try server.request("/say?text=warm-out&to=stdout").status == 200)
        #expect(try server.request("/say?text=warm-err&to=stderr").status == 200)
        #expect(try server.request("/throw").status == 500)
        #expect(server.waitForLog("child \(worker) said into stdout: \"warm-out\""), "\(server.log)")
        #expect(server.waitForLog("child \(worker) said into stderr: \"warm-err\""), "\(server.log)")
        #expect(server.waitForLog("boom from the test app"), "\(server.log)")
    }

    @Test func aTemplateThatDoesNotAnswerIsReplacedAndTheWorkerForkedFromTheNewOne() throws {
        let server = try FPMServer(pools: Self.pool(children: 2))
        defer { server.stop() }
        #expect(TestSupport.waitUntil { setUpPIDs(server).count == 2 })
        let template = try #require(templates(server).first)
        let victim = try #require(setUpPIDs(server).first)
        // Stopped, the template takes the request but never answers (as one that died with its
        // exit not yet reaped): after the reply deadline the master makes a new one.
        kill(template, SIGSTOP)
        kill(victim, SIGKILL)
        #expect(TestSupport.waitUntil(timeout: 15) { setUpPIDs(server).count == 3 })
        #expect(server.log.contains("the warm template \(template) did not answer; a new one is made"), "\(server.log)")
        #expect(TestSupport.waitUntil { TestSupport.isZombieOrGone(template) })
        let replacement = try #require(setUpPIDs(server).last)
        #expect(Self.parent(of: replacement) == server.pid)
        #expect(templates(server).count == 2)
        #expect(try server.request("/pid").status == 200)
    }

    @Test func aReplacementWhoseWarmUpFailsIsRetriedWhileTheWorkersGoOn() throws {
        let server = try FPMServer(pools: Self.pool(children: 2, extra: "env[TESTAPP_WARM_FAIL_IF] = {{DIR}}/fail-warm-up"))
        defer { server.stop() }
        #expect(TestSupport.waitUntil { setUpPIDs(server).count == 2 })
        let flag = server.dir + "/fail-warm-up"
        TestSupport.write(flag, "")
        let template = try #require(templates(server).first)
        kill(template, SIGKILL)
        #expect(server.waitForLog("[pool www] warmUp failed: test warm-up failed: \(flag) exists"), "\(server.log)")
        // A worker that dies meanwhile is held; the other one serves.
        let victim = try #require(setUpPIDs(server).first)
        kill(victim, SIGKILL)
        #expect(server.waitForLog("child \(victim) exited on signal 9"))
        #expect(try server.request("/pid").status == 200)
        #expect(setUpPIDs(server).count == 2)
        // Fixed: the tick tries again, the held worker is forked from the new template.
        try FileManager.default.removeItem(atPath: flag)
        #expect(TestSupport.waitUntil(timeout: 10) { setUpPIDs(server).count == 3 })
        let replacement = try #require(setUpPIDs(server).last)
        #expect(Self.parent(of: replacement) == server.pid)
    }

    @Test func aWarmUpThatThrowsRefusesTheStartNamingThePool() throws {
        let server = try FPMServer(pools: Self.pool(extra: "env[TESTAPP_WARM_FAIL] = no table"), start: false)
        defer { server.stop() }
        try server.start(waitReady: false)
        #expect(TestSupport.waitUntil(timeout: 20) { !server.child.process.isRunning })
        #expect(server.log.contains("[pool www] warmUp failed: test warm-up failed: no table"), "\(server.log)")
        #expect(server.log.contains("FPM initialization failed"))
        #expect(!events(server).contains { $0.hasPrefix("setup ") })
    }

    @Test func aReloadWhoseWarmUpThrowsKeepsTheRunningConfigurationServing() throws {
        let server = try FPMServer(pools: Self.pool(children: 2))
        defer { server.stop() }
        #expect(TestSupport.waitUntil { setUpPIDs(server).count == 2 })
        server.writeConfig(pools: Self.pool(children: 2, extra: "env[TESTAPP_WARM_FAIL] = broken table"))
        let failed = try server.fpmctl(["reload", "--pid", server.pidPath])
        #expect(failed.status != 0)
        #expect(server.log.contains("[pool www] warmUp failed: test warm-up failed: broken table"), "\(server.log)")
        #expect(server.child.process.isRunning)
        #expect(try server.request("/warm").bodyText.hasSuffix(" ppid \(server.pid)\n"))
        #expect(!server.log.contains("unknown child"), "\(server.log)")
    }

    @Test func workersShareTheWarmUpsTable() throws {
        let megabytes = 32, children = 4
        let server = try FPMServer(pools: Self.pool(children: children, megabytes: megabytes))
        defer { server.stop() }
        #expect(TestSupport.waitUntil { setUpPIDs(server).count == children })
        // Every worker reads the whole table (one byte per page): as many requests at once as
        // workers, each holding its worker.
        let served = Mutex(Set<Int32>())
        nonisolated(unsafe) let shared = server
        onThreads(children) { _ in
            let text = (try? shared.request("/warm?hold=300").bodyText) ?? ""
            if let pid = text.split(separator: " ").dropFirst(4).first.flatMap({ Int32($0) }) { served.withLock { _ = $0.insert(pid) } }
        }
        #expect(served.withLock { $0.count } == children)
        let total = setUpPIDs(server).reduce(0) { $0 + Self.pss(of: $1) }
        // Without the template each worker would hold its own copy: children × 32 MiB. With it,
        // the pages are shared five ways (the template too).
        #expect(total > 0 && total < megabytes * 1024 * children / 2, "PSS of \(children) workers: \(total) kB")
    }
}

extension FastCGIResponse {
    fileprivate var bodyText: String { String(decoding: body, as: UTF8.self) }
}
