import ArgumentParser
import FPMStatus
import FPMSystem
import Glibc

/// `fpmctl top`: every pool and worker from the scoreboards, redrawn every second in a plain
/// terminal (ANSI clear and redraw, nothing curses needs), so it works over ssh. `q` or Ctrl-C
/// quits and gives the terminal back as it was; `--once` prints one frame (for scripts).
struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "A live view of every pool and worker: stage, request, duration, CPU, memory.")
    @OptionGroup var locator: MasterLocator
    @ParentCommand var root: FPMCtl
    @Flag(name: .long, help: "Print one frame and exit.") var once = false
    @Option(name: .long, help: "Seconds between frames.") var interval: Double = 1

    func run() throws {
        let pid = try locator.or(root.locator).masterPID()
        var sampler = CPUSampler()
        if once || !TerminalMode.isTerminal(1) {
            try FileIO.writeAll(1, TopView.render(try snapshot(pid: pid, sampler: &sampler)))
            return
        }
        try live(pid: pid, sampler: &sampler)
    }

    /// The refreshing screen: the alternate screen, the cursor hidden, keys read one at a time;
    /// all of it undone on the way out, whatever the reason.
    func live(pid: Int32, sampler: inout CPUSampler) throws {
        let quitSignals = [SIGINT, SIGTERM, SIGHUP]
        try Signals.block(quitSignals)
        let signals = try Signals.makeSignalFD(quitSignals)
        let keys = TerminalMode.isTerminal(0) ? try? TerminalMode(rawKeys: 0) : nil
        try? FileIO.writeAll(1, "\u{1B}[?1049h\u{1B}[?25l")
        defer {
            keys?.restore()
            try? FileIO.writeAll(1, "\u{1B}[?25h\u{1B}[?1049l")
            FileIO.close(signals)
        }
        let waitMillis = Int32(clamping: Int(max(0.1, interval) * 1000))
        while true {
            let size = TerminalMode.size(1)
            let frame = TopView.render(try snapshot(pid: pid, sampler: &sampler), width: size?.columns ?? 132, height: size?.rows)
            try? FileIO.writeAll(1, "\u{1B}[H\u{1B}[2J" + frame)
            var fds = [pollfd(fd: signals, events: Poll.readable, revents: 0)]
            if keys != nil { fds.append(pollfd(fd: 0, events: Poll.readable, revents: 0)) }
            let deadline = SystemClock.monotonicNanos() + Int(waitMillis) * 1_000_000
            while true {
                let left = Int32(clamping: max(0, (deadline - SystemClock.monotonicNanos()) / 1_000_000))
                if left == 0 { break }
                for i in fds.indices { fds[i].revents = 0 }
                guard try Poll.wait(&fds, timeoutMillis: left) > 0 else { continue }
                if fds[0].revents != 0 { return }
                if fds.count > 1, fds[1].revents != 0 {
                    var byte: UInt8 = 0
                    let n = (try? withUnsafeMutableBytes(of: &byte) { b throws(SystemError) in try FileIO.read(0, into: b) }) ?? 0
                    if n == 0 || byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") || byte == 3 { return }
                }
            }
        }
    }

    func snapshot(pid: Int32, sampler: inout CPUSampler) throws -> TopView.Snapshot {
        guard !ProcessSample.hasExited(pid) else { throw ControlError("the master (pid \(pid)) has exited") }
        let state = MasterStateFile.read(pid: pid)
        let boards = try Scoreboards.open(pid: pid)
        defer { boards.forEach { $0.memory.unmap() } }
        let now = SystemClock.monotonicNanos()
        var pools: [TopView.Pool] = []
        for board in boards {
            let (status, processes) = StatusCollector.collect(board)
            let workers = processes.map { p in
                let sample = ProcessSample.read(p.pid)
                return TopView.Worker(process: p, cpuPercent: sample.flatMap { sampler.percent(pid: p.pid, sample: $0, nowMono: now, age: p.startSince) },
                                      residentBytes: sample?.residentBytes)
            }
            pools.append(TopView.Pool(status: status, workers: workers))
        }
        let clock = TopView.clock(epoch: SystemClock.epochSeconds())
        return TopView.Snapshot(masterPID: pid, generation: state?.generation ?? 0, phase: state?.phaseDescription ?? "?",
                                clock: clock, pools: pools)
    }
}

/// CPU percent per worker between two frames; for a worker seen the first time, over its life.
struct CPUSampler {
    private var last: [Int32: (cpu: Int, mono: Int)] = [:]

    mutating func percent(pid: Int32, sample: ProcessSample, nowMono: Int, age: Int) -> Double? {
        defer { last[pid] = (sample.cpuMicros, nowMono) }
        if let previous = last[pid], nowMono > previous.mono {
            return Double(sample.cpuMicros - previous.cpu) * 1000 / Double(nowMono - previous.mono) * 100
        }
        return age > 0 ? Double(sample.cpuMicros) / Double(age * 1_000_000) * 100 : nil
    }
}
