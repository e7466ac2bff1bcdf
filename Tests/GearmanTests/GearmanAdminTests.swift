import Gearman
import Testing

@Suite("Gearman admin text protocol")
struct GearmanAdminTests {
    /// What gearmand 1.1.20 answers (captured from Debian's gearmand): version, status with
    /// two functions, workers with a worker and this admin connection, getpid, an unknown command.
    static let stream = Array((
        "OK 1.1.20+ds\n"
            + "syncToRedis\t5\t2\t3\nwriteLog\t0\t0\t1\n.\n"
            + "38 127.0.0.1 pool-www-1 : syncToRedis writeLog\n39 127.0.0.1 - :\n.\n"
            + "OK 26988\n"
            + "ERR UNKNOWN_COMMAND Unknown+server+commandbogus\r\n"
    ).utf8)

    @Test("answers read in any chunking", arguments: [1, 2, 7, 1000])
    func chunked(_ chunk: Int) throws {
        var reader = GearmanAdminReader()
        var offset = 0
        func more() {
            let end = min(offset + chunk, Self.stream.count)
            reader.append(Self.stream[offset..<end])
            offset = end
        }
        func next<T>(_ read: (inout GearmanAdminReader) throws -> T?) throws -> T {
            while true {
                if let value = try read(&reader) { return value }
                #expect(offset < Self.stream.count, "ran out of input")
                more()
            }
        }
        #expect(try next { try $0.nextReply() } == "1.1.20+ds")
        let status = try GearmanFunctionStatus.parse(try next { try $0.nextList() })
        #expect(status == [GearmanFunctionStatus(function: "syncToRedis", total: 5, running: 2, workers: 3),
                           GearmanFunctionStatus(function: "writeLog", total: 0, running: 0, workers: 1)])
        #expect(status[0].waiting == 3)
        let workers = try GearmanWorkerStatus.parse(try next { try $0.nextList() })
        #expect(workers == [GearmanWorkerStatus(fd: 38, address: "127.0.0.1", clientID: "pool-www-1", functions: ["syncToRedis", "writeLog"]),
                            GearmanWorkerStatus(fd: 39, address: "127.0.0.1", clientID: "-", functions: [])])
        #expect(try next { try $0.nextReply() } == "26988")
        #expect(throws: GearmanError.adminError(code: "UNKNOWN_COMMAND", message: "Unknown server commandbogus")) {
            _ = try next { try $0.nextReply() }
        }
    }

    @Test("an empty list is a lone dot")
    func emptyList() throws {
        var reader = GearmanAdminReader()
        reader.append(Array(".\n".utf8))
        #expect(try reader.nextList() == [])
    }

    @Test("ERR in place of a list is thrown")
    func errInsteadOfList() {
        var reader = GearmanAdminReader()
        reader.append(Array("ERR INCOMPLETE_ARGS An+incomplete+set+of+arguments+was+sent+to+this+command\n".utf8))
        #expect(throws: GearmanError.adminError(code: "INCOMPLETE_ARGS", message: "An incomplete set of arguments was sent to this command")) {
            try reader.nextList()
        }
    }

    @Test("an endless line or list is refused at the limit")
    func limits() {
        var reader = GearmanAdminReader(limits: GearmanLimits(maxAdminLine: 16, maxAdminLines: 2))
        reader.append([UInt8](repeating: 0x61, count: 17))
        #expect(throws: GearmanError.adminResponseTooLarge(limit: 16)) { try reader.nextLine() }
        var lines = GearmanAdminReader(limits: GearmanLimits(maxAdminLine: 16, maxAdminLines: 2))
        lines.append(Array("f\t0\t0\t0\nf\t0\t0\t0\nf\t0\t0\t0\n".utf8))
        #expect(throws: GearmanError.adminResponseTooLarge(limit: 2)) { try lines.nextList() }
    }

    @Test("malformed lines are typed errors", arguments: ["f\t1\t2", "f\tx\t0\t0", "\t1\t1\t1", "f\t-1\t0\t0"])
    func malformedStatus(_ line: String) {
        #expect(throws: GearmanError.malformedAdminLine(line)) { try GearmanFunctionStatus.parse([line]) }
    }

    @Test("malformed workers lines are typed errors", arguments: ["38 127.0.0.1 -", "x 127.0.0.1 - :", "38 127.0.0.1 - f"])
    func malformedWorkers(_ line: String) {
        #expect(throws: GearmanError.malformedAdminLine(line)) { try GearmanWorkerStatus.parse([line]) }
    }

    @Test("a reply that is neither OK nor ERR is malformed")
    func malformedReply() {
        var reader = GearmanAdminReader()
        reader.append(Array("hello\n".utf8))
        #expect(throws: GearmanError.malformedAdminLine("hello")) { try reader.nextReply() }
    }

    @Test("command lines")
    func commands() {
        #expect(GearmanAdminCommand.status.line == Array("status\n".utf8))
        #expect(GearmanAdminCommand.workers.line == Array("workers\n".utf8))
        #expect(GearmanAdminCommand.version.line == Array("version\n".utf8))
        #expect(GearmanAdminCommand.maxqueue(function: "f", size: 10).line == Array("maxqueue f 10\n".utf8))
        #expect(GearmanAdminCommand.status.answersWithList && !GearmanAdminCommand.version.answersWithList)
    }
}
