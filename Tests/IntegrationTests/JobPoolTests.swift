import FastCGI
import Foundation
import Gearman
import GearmanClient
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Job pools through the real `fpm` and a real gearmand: what a Swift job handler returns or
/// throws reaches the client, and the pool's workers are seen like any pool's.
@Suite(.serialized) struct JobPoolTests {
    @Test func aSwiftJobPoolAnswersClientsAsTheHandlerSays() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs", pools: JobPools.pool(gearmand, extra: "access.log = {{DIR}}/access.log\naccess.format = \"%n %m %r %f %s %{GEARMAN_OUTCOME}e %l\"",
                                                                   children: 2, functions: "record, fail, boom, progress"))
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("record")?.workers ?? 0) == 2 }, "\(fpm.log)")
        let client = try GearmanClient(server: gearmand.address, timeout: 10, exceptions: true)
        defer { client.close() }
        let done = try client.submit(function: "record", payload: Array("hello".utf8), unique: "u1")
        #expect(done.outcome == .complete(Array("hello".utf8)))
        #expect(try client.submit(function: "fail", payload: []).outcome == .failed)
        #expect(try client.submit(function: "boom", payload: []).outcome == .exception(Array("boom from the test job".utf8)))
        let progress = try client.submit(function: "progress", payload: [])
        #expect(progress.outcome == .complete(Array("done".utf8)))
        #expect(progress.progress.map { $0.0 } == [1] && progress.data == [Array("part".utf8)])
        // After the exception gearmand sends the client a WORK_FAIL too: the next job is unaffected.
        #expect(try client.submit(function: "record", payload: [1], unique: "u2").outcome == .complete([1]))
        #expect(!fpm.log.contains("unreachable"), "\(fpm.log)")
        #expect(JobPools.done(fpm).sorted() == ["u1", "u2"])
        #expect(fpm.waitForLog("job ") && fpm.log.contains("failed: boom from the test job"))
        let access = TestSupport.read(fpm.dir + "/access.log")
        #expect(access.contains("jobs JOB record H:") && access.contains(" 200 complete 5"), "\(access)")
        #expect(access.contains("JOB fail H:") && access.contains(" 422 fail 0"), "\(access)")
        #expect(access.contains(" 500 exception 0"), "\(access)")
    }
}

/// A job pool with a warm template: its workers are forked by the template, run the job loop,
/// and are the master's children.
@Suite(.serialized) struct JobPoolWarmTemplateTests {
    @Test func aJobPoolsWorkersForkedByItsWarmTemplateRunJobs() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs-warm", pools: JobPools.pool(gearmand, extra: "pm.warm_template = yes", children: 2))
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("record")?.workers ?? 0) == 2 }, "\(fpm.log)")
        let client = try GearmanClient(server: gearmand.address, timeout: 10)
        defer { client.close() }
        #expect(try client.submit(function: "record", payload: Array("warm".utf8), unique: "w1").outcome == .complete(Array("warm".utf8)))
        #expect(JobPools.done(fpm) == ["w1"])
        // The worker that ran it is the master's child, not the template's.
        let line = TestSupport.read(fpm.dir + "/done.txt").split(separator: "\n").first.map(String.init) ?? ""
        let workerPID = Int32(line.split(separator: " ").last ?? "") ?? 0
        let status = TestSupport.read("/proc/\(workerPID)/status")
        let ppid = status.split(separator: "\n").first { $0.hasPrefix("PPid:") }.map { $0.dropFirst(5).trimmingCharacters(in: .whitespaces) }
        #expect(ppid == String(fpm.child.pid), "\(status)")
        let ctl = try fpm.fpmctl(["status"])
        #expect(ctl.stdout.contains("warm template:") && fpm.log.contains("[pool jobs] warm template"), "\(ctl.stdout)\n\(fpm.log)")
    }
}

/// dynamic and ondemand job pools scale on gearmand's backlog, read by the master without
/// blocking its loop.
@Suite(.serialized) struct JobPoolScalingTests {
    @Test(arguments: ["ondemand", "dynamic"])
    func aBacklogGrowsThePoolToMaxChildrenAndAnEmptyQueueShrinksIt(_ pm: String) throws {
        let gearmand = try JobServer()
        let extra = pm == "ondemand" ? "pm.process_idle_timeout = 1s"
            : "pm.start_servers = 1\npm.min_spare_servers = 1\npm.max_spare_servers = 1"
        let fpm = try FPMServer(name: "jobs-\(pm)", pools: JobPools.pool(gearmand, extra: extra, pm: pm, children: 4, functions: "slow"))
        defer { fpm.stop() }
        let resting = pm == "ondemand" ? 0 : 1
        #expect(fpm.waitForWorkers(resting))
        try gearmand.submitBackground(function: "slow", count: 120, unique: { "s-\($0)" }, payload: Array("25".utf8))
        var peak = 0
        let grew = TestSupport.waitUntil(timeout: 10, interval: 0.05) {
            peak = max(peak, fpm.workers.count)
            return peak == 4
        }
        #expect(grew, "peak \(peak) workers; \(fpm.log.suffix(2000))")
        #expect(TestSupport.waitUntil(timeout: 15) { JobPools.done(fpm).count >= 120 })
        let shrank = TestSupport.waitUntil(timeout: 15, interval: 0.1) { fpm.workers.count == resting }
        print("\(pm) job pool: peak \(peak) workers for 120 jobs of 25 ms, back to \(fpm.workers.count)")
        #expect(shrank, "\(fpm.workers.count) workers left; \(fpm.log.suffix(2000))")
    }
}

/// A job pool is seen like any pool: every status format, `fpmctl status`, `top` and `health`.
@Suite(.serialized) struct JobPoolStatusTests {
    @Test func everyFormatShowsTheJobPoolAndHealthSaysWhenGearmandIsGone() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs-status", pools: JobPools.pool(gearmand, extra: "pm.status_listen = {{DIR}}/status.sock\nrequest_slowlog_timeout = 1s\nslowlog = {{DIR}}/slow.log",
                                                                          children: 2, functions: "record, slow, fail"))
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("record")?.workers ?? 0) == 2 })
        try gearmand.submitBackground(function: "record", count: 5, unique: { "r-\($0)" })
        try gearmand.submitBackground(function: "fail", count: 2, unique: { "f-\($0)" })
        // One job in hand while the pages are read (and long enough for the slowlog).
        try gearmand.submitBackground(function: "slow", count: 1, unique: { _ in "slow-1" }, payload: Array("1600".utf8))
        #expect(TestSupport.waitUntil(timeout: 5) {
            let page = (try? fpm.fpmctl(["status", "--pid", fpm.pidPath]).stdout) ?? ""
            // The master asks gearmand once per pm tick.
            return page.contains("jobs in progress:     1") && page.contains("gearman:              connected")
        })
        let text = try fpm.fpmctl(["status", "--pid", fpm.pidPath, "--full"]).stdout
        #expect(text.contains("gearman:              connected"), "\(text)")
        #expect(text.contains("jobs done:            5") && text.contains("jobs failed:          2"), "\(text)")
        #expect(text.contains("request method:       JOB") && text.contains("request URI:          slow"), "\(text)")
        #expect(text.contains("script:               H:"), "\(text)")
        for format in ["json", "xml", "html", "openmetrics"] {
            let page = try fpm.fpmctl(["status", "--pid", fpm.pidPath, "--full", "--format", format]).stdout
            #expect(page.contains("jobs") && page.contains("backlog"), "\(format): \(page)")
        }
        let metrics = try fpm.fpmctl(["status", "--pid", fpm.pidPath, "--format", "openmetrics"]).stdout
        #expect(metrics.contains("phpfpm_jobs_done 5") && metrics.contains("phpfpm_jobs_failed 2"), "\(metrics)")
        #expect(metrics.contains("# TYPE phpfpm_job_duration_seconds histogram") && metrics.contains("phpfpm_gearman_connected 1"), "\(metrics)")
        // The status listener (served by the master) shows the job pool too, in every format.
        for query in ["", "?json", "?xml", "?html", "?openmetrics"] {
            let page = try StatusListenerTests.get(fpm.dir + "/status.sock", "/" + query)
            #expect(page.status == 200 && page.bodyText.contains("jobs") && page.bodyText.contains("done"), "\(query): \(page.bodyText)")
        }
        #expect(try StatusListenerTests.get(fpm.dir + "/status.sock", "/ready").status == 200)
        // The strict page, job families included, is what promtool and the strict parser accept.
        let strict = try StatusListenerTests.get(fpm.dir + "/status.sock", "/?openmetrics&full&strict").bodyText
        TestSupport.write(fpm.dir + "/strict.txt", strict)
        let checked = try PrometheusScrapeTests.promtoolCheck(fpm.dir + "/strict.txt")
        #expect(checked.status == 0, "promtool: \(checked.output)\n\(strict)")
        TestSupport.write(fpm.dir + "/parse.py", """
            import sys
            from prometheus_client.openmetrics.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    print(family.name, family.type, s.name, s.value)
            """)
        let parsed = try runCommand("/usr/bin/env", ["python3", fpm.dir + "/parse.py", fpm.dir + "/strict.txt"])
        #expect(parsed.status == 0 && parsed.stdout.contains("phpfpm_jobs_done_total unknown phpfpm_jobs_done_total 5"),
                "\(parsed.stdout)\(parsed.stderr)")
        let top = try fpm.fpmctl(["top", "--once", "--pid", fpm.pidPath]).stdout
        #expect(top.contains("job pool jobs (static)") && top.contains("gearmand connected"), "\(top)")
        #expect(try fpm.fpmctl(["health", "--pid", fpm.pidPath]).status == 0)
        // The slowlog has the job's stack, as for a request.
        #expect(TestSupport.waitUntil(timeout: 5) {
            let slow = TestSupport.read(fpm.dir + "/slow.log")
            return slow.contains("request = JOB slow") && slow.contains("script_filename = H:") && slow.contains("TestJobs")
        }, "\(fpm.log.suffix(1500))")

        gearmand.kill()
        #expect(TestSupport.waitUntil(timeout: 5) {
            ((try? fpm.fpmctl(["status", "--pid", fpm.pidPath]).stdout) ?? "").contains("gearman:              disconnected")
        })
        #expect(try StatusListenerTests.get(fpm.dir + "/status.sock", "/ready").status != 200)
        let health = try fpm.fpmctl(["health", "--pid", fpm.pidPath])
        #expect(health.status == 1 && (health.stdout + health.stderr).contains("disconnected"), "\(health)")
        #expect(fpm.log.contains("the pool is disconnected"))
    }
}

/// `fpm -t` checks a job pool like any other: a mistake exits 78 naming file, line and directive.
@Suite struct JobPoolConfigCheckTests {
    static func check(_ pool: String) throws -> (status: Int32, stderr: String, path: String) {
        let dir = TestSupport.makeTempDirectory("jobs-t")
        let path = dir + "/fpm.conf"
        TestSupport.write(path, "[global]\nerror_log = \(dir)/error.log\n\n" + pool + "\n")
        let r = try runCommand(TestSupport.testAppPath, ["-t", "-R", "-y", path])
        return (r.status, r.stderr, path)
    }

    @Test(arguments: [
        ("listen = 127.0.0.1:9000", 9, "listen"),
        ("pm.status_path = /status", 9, "pm.status_path"),
        ("handler = testapp", 9, "handler"),
    ])
    func aBadJobPoolExits78NamingFileAndLine(_ line: String, _ number: Int, _ directive: String) throws {
        let pool = "[jobs]\ngearman.servers = 127.0.0.1:4730\npm = static\npm.max_children = 1\nhandler = testjobs\n" + line
        let r = try Self.check(pool)
        #expect(r.status == 78, "\(r.stderr)")
        #expect(r.stderr.contains("\(r.path):\(number)") && r.stderr.contains(directive), "\(r.stderr)")
    }

    @Test func aFastCGIPoolNamingAJobHandlerIsRefused() throws {
        let r = try Self.check("[www]\nlisten = 127.0.0.1:9000\npm = static\npm.max_children = 1\nhandler = testjobs")
        #expect(r.status == 78 && r.stderr.contains("\(r.path):8") && r.stderr.contains("job handler"), "\(r.stderr)")
    }

    @Test func aGoodJobPoolPasses() throws {
        let r = try Self.check("[jobs]\ngearman.servers = 127.0.0.1:4730\npm = ondemand\npm.max_children = 2\nhandler = testjobs")
        #expect(r.status == 0, "\(r.stderr)")
    }
}
