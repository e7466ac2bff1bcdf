@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// catch_workers_output's line splitting, against what php-fpm 8.2 writes (log_limit = 600:
/// decorated entries of 599 bytes plus the newline, 525 bytes of text each with a 73-byte prefix;
/// undecorated pieces of 599 bytes).
@Suite("Workers' output split into error-log entries")
struct WorkerOutputTests {
    private func readEndClosed(_ writeEnd: Int32) -> Bool {
        var fds = [pollfd(fd: writeEnd, events: Poll.writable, revents: 0)]
        _ = try? Poll.wait(&fds, timeoutMillis: 0)
        return fds[0].revents & Poll.failed != 0
    }

    private func text(_ entries: [[UInt8]]) -> [String] { entries.map { String(decoding: $0, as: UTF8.self) } }

    @Test func eachCompleteLineIsOneEntryWithoutItsNewline() {
        var splitter = WorkerOutputSplitter(maximum: 100)
        #expect(text(splitter.feed(Array("one\ntwo\n".utf8))) == ["one", "two"])
        #expect(splitter.pending.isEmpty)
    }

    @Test func aLineSplitAcrossReadsIsJoined() {
        var splitter = WorkerOutputSplitter(maximum: 100)
        #expect(splitter.feed(Array("main.swift:47: Fatal ".utf8)).isEmpty)
        #expect(text(splitter.feed(Array("error: boom\nnext".utf8))) == ["main.swift:47: Fatal error: boom"])
        #expect(String(decoding: splitter.pending, as: UTF8.self) == "next")
    }

    @Test func anEmptyLineIsAnEmptyEntry() {
        var splitter = WorkerOutputSplitter(maximum: 100)
        #expect(text(splitter.feed(Array("\n\n".utf8))) == ["", ""])
    }

    @Test func aLongLineIsWrappedIntoEntriesOfTheMaximum() {
        var splitter = WorkerOutputSplitter(maximum: 525)
        let entries = splitter.feed([UInt8](repeating: UInt8(ascii: "a"), count: 1500) + [UInt8(ascii: "\n")])
        #expect(entries.map(\.count) == [525, 525, 450])
    }

    @Test func aPieceThatFillsTheMaximumLeavesAtOnceEvenWithoutANewline() {
        var splitter = WorkerOutputSplitter(maximum: 4)
        #expect(text(splitter.feed(Array("abcdef".utf8))) == ["abcd"])
        #expect(splitter.flush().map { String(decoding: $0, as: UTF8.self) } == "ef")
        #expect(splitter.flush() == nil)
    }

    @Test func withoutBufferingWhatAReadBroughtLeavesAtOnce() {
        var splitter = WorkerOutputSplitter(maximum: 100, buffering: false)
        #expect(text(splitter.feed(Array("one\npart".utf8))) == ["one", "part"])
        #expect(splitter.pending.isEmpty)
    }

    @Test func theMaximumLeavesRoomForThePrefixAndTheClosingQuote() {
        // "[01-Dec-2026 23:32:14] WARNING: [pool www] child 6768 said into stderr: \"" is 73 bytes.
        #expect(WorkerOutputSplitter.maximum(limit: 600, decorated: true, prefix: 73) == 525)
        #expect(WorkerOutputSplitter.maximum(limit: 600, decorated: false, prefix: 73) == 599)
        #expect(WorkerOutputSplitter.maximum(limit: 10, decorated: true, prefix: 73) == 1)
    }

    @Test func outputStreamsAreFoundByDescriptorAndByWorker() throws {
        // Real pipes: a stream owns its descriptor and closes it.
        let out = try FileIO.pipe(), err = try FileIO.pipe()
        defer { FileIO.close(out.write); FileIO.close(err.write) }
        var outputs = WorkerOutputs()
        let splitter = WorkerOutputSplitter(maximum: 10)
        outputs.add(WorkerOutputStream(fd: out.read, pid: 100, pool: "www", name: "stdout", decorated: true, splitter: splitter))
        outputs.add(WorkerOutputStream(fd: err.read, pid: 100, pool: "www", name: "stderr", decorated: true, splitter: splitter))
        #expect(outputs.byPID[100] == [out.read, err.read])
        #expect(outputs.streams[err.read]?.decoration == "[pool www] child 100 said into stderr: \"")
        outputs.remove(out.read)?.close()
        #expect(outputs.byPID[100] == [err.read])
        let removed = outputs.remove(err.read)
        let stderr = try #require(removed)
        #expect(outputs.byPID[100] == nil)
        #expect(outputs.remove(err.read) == nil)
        // Closing the stream closes its pipe's read end, once: the write end then reports an
        // error (told by the write end, which no other test can reuse meanwhile).
        #expect(!readEndClosed(err.write))
        stderr.close()
        stderr.close()
        #expect(readEndClosed(err.write))
    }

    @Test func theOutputPipesTravelThroughAReloadsInheritance() throws {
        let outputs = [ReloadInheritance.Output(pid: 41, fd: 12, stream: "stdout", decorated: true, pool: "www"),
                       ReloadInheritance.Output(pid: 41, fd: 13, stream: "stderr", decorated: false, pool: "my pool")]
        let value = ReloadInheritance(generation: 2, reloadFailures: 0, configurationPath: nil, configuration: "[www]\n",
                                      listeners: [], handoffs: [], children: [], outputs: outputs)
        #expect(try ReloadInheritance.decode(value.encode()) == value)
        #expect(value.descriptors.contains(12) && value.descriptors.contains(13))
    }

    @Test func aPipesEpollTagNamesItsDescriptorAndNoOtherWakeup() {
        guard case .workerOutput(let fd)? = Master.Wakeup(tag: Master.Wakeup.workerOutput(fd: 1234).tag) else {
            Issue.record("not a worker output wakeup")
            return
        }
        #expect(fd == 1234)
        guard case .signal? = Master.Wakeup(tag: Master.Wakeup.signal.tag),
              case .pendingConnection(let pool)? = Master.Wakeup(tag: Master.Wakeup.pendingConnection(pool: 7).tag) else {
            Issue.record("other wakeups changed")
            return
        }
        #expect(pool == 7)
    }
}
