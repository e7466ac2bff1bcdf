import FPMStatus
import Testing

/// `fpmctl top`'s frame, from a snapshot.
@Suite struct TopViewTests {
    func snapshot() -> TopView.Snapshot {
        let busy = ProcessStatus(pid: 1201, state: .running, startTime: 0, startSince: 30, requests: 7,
                                 requestDuration: 1_250_000, requestMethod: "GET", requestURI: "/sleep", queryString: "ms=2000")
        let idle = ProcessStatus(pid: 1200, state: .idle, startTime: 0, startSince: 30, requests: 3,
                                 requestDuration: 850, requestMethod: "POST", requestURI: "/echo")
        let fresh = ProcessStatus(pid: 1199, state: .idle, startTime: 0, startSince: 1)
        let pool = PoolStatus(pool: "www", processManager: "static", startTime: 0, startSince: 30, acceptedConn: 11,
                              listenQueue: 2, listenQueueLen: 511, idleProcesses: 2, activeProcesses: 1, totalProcesses: 3,
                              slowRequests: 1, maxChildren: 3)
        return TopView.Snapshot(masterPID: 1000, generation: 2, phase: "running", clock: "23:41:02", pools: [
            TopView.Pool(status: pool, workers: [
                TopView.Worker(process: idle, cpuPercent: 0.5, residentBytes: 9_961_472),
                TopView.Worker(process: busy, cpuPercent: 99.94, residentBytes: 15_000_000),
                TopView.Worker(process: fresh, cpuPercent: nil, residentBytes: nil),
            ]),
        ])
    }

    @Test func framesShowEveryPoolAndWorkerBusyFirst() {
        let lines = TopView.render(snapshot()).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "swift-fpm master 1000, generation 2, running - 23:41:02 - q quits")
        #expect(lines[1] == "")
        #expect(lines[2] == "pool www (static): 1 active, 2 idle, 3 total of 3; queue 2/511; accepted 11; slow 1; max children reached 0")
        #expect(lines[3] == TopView.header)
        #expect(lines[4] == "   1201 Running                7     1.25s   99.9    14.3M  GET /sleep?ms=2000")
        #expect(lines[5] == "   1199 Idle                   0       0us      -        -  -")
        #expect(lines[6] == "   1200 Idle                   3     850us    0.5     9.5M  (last) POST /echo")
        #expect(lines.count == 8 && lines[7] == "")
    }

    @Test func linesAreCutToTheTerminalAndOverflowIsCounted() {
        let frame = TopView.render(snapshot(), width: 20, height: 4)
        let lines = frame.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines.count == 4)
        #expect(lines.allSatisfy { $0.count <= 20 })
        #expect(lines[3].hasPrefix("... 4 more lines"))
    }

    @Test func aPoolWithoutWorkersSaysSo() {
        var s = snapshot()
        s.pools[0].workers = []
        #expect(TopView.render(s).contains("    (no workers)\n"))
    }

    @Test func durationsAndSizesReadAtAGlance() {
        #expect(TopView.duration(999) == "999us")
        #expect(TopView.duration(12_345) == "12.3ms")
        #expect(TopView.duration(2_500_000) == "2.50s")
        #expect(TopView.duration(125_000_000) == "2m05s")
        #expect(TopView.bytes(512) == "512B")
        #expect(TopView.bytes(12 * 1024) == "12.0K")
        #expect(TopView.bytes(3 << 30) == "3.00G")
    }
}
