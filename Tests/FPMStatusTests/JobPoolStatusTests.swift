@testable import FPMStatus
import FPMSystem
import Foundation
import Testing

/// A job pool's figures in the scoreboard header, on every page, and in the health verdict.
@Suite struct JobPoolStatusTests {
    func makeBoard(job: Bool) throws -> (Scoreboard, String) {
        let path = NSTemporaryDirectory() + "sb-jobs-\(UUID().uuidString)"
        let sb = try Scoreboard(create: path, pool: "sync", listen: "gearman:sync", pm: 0, slots: 2, maxChildren: 2,
                                masterPID: 42, generation: 1)
        sb.isJobPool = job
        sb.slot(0).claim(pid: 10, generation: 1)
        sb.slot(0).markIdle(now: 1)
        return (sb, path)
    }

    @Test func theHeaderKeepsTheJobFigures() throws {
        let (sb, path) = try makeBoard(job: true)
        defer { unlink(path) }
        #expect(Scoreboard.H.gearmanState + 8 <= Scoreboard.headerSize)
        sb.countJob(failed: false)
        sb.countJob(failed: false)
        sb.countJob(failed: true)
        sb.restarts = 3
        sb.backlog = 7
        sb.maxBacklog = 9
        sb.gearmanState = .connected
        let figures = try #require(JobPoolFigures(sb, active: 1))
        #expect(figures == JobPoolFigures(gearman: "connected", jobsDone: 2, jobsFailed: 1, jobsInProgress: 1, restarts: 3,
                                          backlog: 7, maxBacklog: 9))
        // Another reader of the same file sees them.
        let reader = try Scoreboard(open: path)
        #expect(reader.isJobPool && reader.jobsDone == 2 && reader.gearmanState == .connected)
    }

    @Test func aFastCGIPoolHasNoJobFigures() throws {
        let (sb, path) = try makeBoard(job: false)
        defer { unlink(path) }
        #expect(JobPoolFigures(sb, active: 0) == nil)
        let (pool, _) = StatusCollector.collect(sb)
        #expect(pool.jobs == nil)
        let text = String(decoding: StatusPage.render(pool: pool, processes: [], format: .text, full: false).body, as: UTF8.self)
        #expect(!text.contains("jobs done"))
    }

    @Test(arguments: [StatusFormat.text, .json, .xml, .html, .openmetrics])
    func everyFormatShowsTheJobFigures(_ format: StatusFormat) throws {
        let (sb, path) = try makeBoard(job: true)
        defer { unlink(path) }
        sb.countJob(failed: false)
        sb.gearmanState = .disconnected
        sb.backlog = 4
        let (pool, processes) = StatusCollector.collect(sb)
        let page = String(decoding: StatusPage.render(pool: pool, processes: processes, format: format, full: true).body, as: UTF8.self)
        switch format {
        case .openmetrics:
            #expect(page.contains("phpfpm_jobs_done 1\n") && page.contains("phpfpm_gearman_connected 0\n")
                    && page.contains("phpfpm_gearman_backlog 4\n") && page.contains("phpfpm_job_duration_seconds_count"), "\(page)")
            #expect(!page.contains("phpfpm_request_duration_seconds"))
        case .json:
            #expect(page.contains("\"jobs done\":1") && page.contains("\"gearman\":\"disconnected\"") && page.contains("\"backlog\":4"), "\(page)")
        case .xml:
            #expect(page.contains("<jobs-done>1</jobs-done>") && page.contains("<gearman>disconnected</gearman>"), "\(page)")
        default:
            #expect(page.contains("jobs done") && page.contains("disconnected") && page.contains("backlog"), "\(page)")
        }
    }

    @Test func aDisconnectedJobPoolIsLiveButNotReadyWhateverItsBacklog() throws {
        let (sb, path) = try makeBoard(job: true)
        defer { unlink(path) }
        sb.listenQueue = 500        // the backlog, as the master mirrors it
        sb.gearmanState = .connected
        let ready = Health.decide(Health.input(sb, masterRunning: true))
        #expect(ready.live && ready.ready, "a backlog in gearmand is no reason to send traffic elsewhere: \(ready.reason)")
        sb.gearmanState = .disconnected
        let verdict = Health.decide(Health.input(sb, masterRunning: true))
        #expect(verdict.live && !verdict.ready && verdict.exitCode == 1)
        #expect(verdict.reason.hasPrefix("not ready: disconnected from gearmand"))
    }
}
