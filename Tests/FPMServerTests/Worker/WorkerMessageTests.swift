@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// The worker's wire formats, over real sockets: what one side encodes the other decodes,
/// descriptors included.
@Suite struct WorkerMessageTests {
    /// A pipe; passing its write end and writing through the copy that arrived proves the
    /// descriptor travelled.
    static func proveSameFile(_ received: Int32, as pipe: (read: Int32, write: Int32)) throws -> Bool {
        try FileIO.writeAll(received, "x")
        var byte: UInt8 = 0
        let n = try withUnsafeMutableBytes(of: &byte) { try FileIO.read(pipe.read, into: $0) }
        return n == 1 && byte == UInt8(ascii: "x")
    }

    @Test func quitCrossesTheControlChannel() throws {
        let (master, worker) = try FileIO.socketPair()
        defer { FileIO.close(master); FileIO.close(worker) }
        #expect(ControlMessage.receive(from: worker) == .none)
        #expect(ControlMessage.quit.send(over: master))
        #expect(ControlMessage.receive(from: worker) == .message(.quit))
        #expect(ControlMessage.receive(from: worker) == .none)
        #expect(ControlMessage.finish.send(over: master))
        #expect(ControlMessage.receive(from: worker) == .message(.finish))
    }

    @Test func aReopenedAccessLogArrivesAsTheWorkersOwnDescriptor() throws {
        let (master, worker) = try FileIO.socketPair()
        defer { FileIO.close(master); FileIO.close(worker) }
        let accessLog = try FileIO.pipe()
        defer { [accessLog.read, accessLog.write].forEach(FileIO.close) }

        #expect(ControlMessage.reopenAccessLog(accessLog.write).send(over: master))
        guard case .message(.reopenAccessLog(let a1)) = ControlMessage.receive(from: worker) else {
            Issue.record("expected reopenAccessLog"); return
        }
        defer { FileIO.close(a1) }
        #expect(a1 != accessLog.write)
        #expect(try Self.proveSameFile(a1, as: accessLog))
    }

    @Test func theMasterGoingAwayIsSeenAsClosed() throws {
        let (master, worker) = try FileIO.socketPair()
        defer { FileIO.close(worker) }
        #expect(ControlMessage.quit.send(over: master))
        FileIO.close(master)
        #expect(ControlMessage.receive(from: worker) == .message(.quit))
        #expect(ControlMessage.receive(from: worker) == .closed)
        #expect(ControlMessage.quit.send(over: worker) == false, "no SIGPIPE, just false")
    }

    @Test func unknownCodesAndMissingDescriptorsDecodeToNothing() {
        let none = UnsafeBufferPointer<Int32>(start: nil, count: 0)
        #expect(ControlMessage.decode(code: UInt8(ascii: "Z"), descriptors: none) == nil)
        #expect(ControlMessage.decode(code: UInt8(ascii: "L"), descriptors: none) == nil)
        #expect(ControlMessage.decode(code: UInt8(ascii: "Q"), descriptors: none) == .quit)
    }

    @Test(arguments: [
        PeerAddress(family: .ipv4, bytes: [127, 0, 0, 1], port: 54321),
        PeerAddress(family: .ipv6, bytes: [0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [1], port: 443),
        PeerAddress(family: .unix, bytes: [], port: 0),
    ])
    func aHandedOffConnectionKeepsItsPeer(peer: PeerAddress) throws {
        let socket = try FileIO.datagramPair()
        defer { FileIO.close(socket.read); FileIO.close(socket.write) }
        let connection = try FileIO.pipe()
        defer { FileIO.close(connection.read); FileIO.close(connection.write) }
        #expect(HandoffMessage.receive(from: socket.read) == nil)
        #expect(HandoffMessage(connection: connection.write, peer: peer).send(over: socket.write))
        let message = try #require(HandoffMessage.receive(from: socket.read))
        defer { FileIO.close(message.connection) }
        #expect(message.peer == peer)
        #expect(try Self.proveSameFile(message.connection, as: connection))
        #expect(HandoffMessage.receive(from: socket.read) == nil)
    }

    @Test func wakeupsRoundTripThroughTheirDataWord() {
        let all: [WorkerWakeup] = [.listener, .control, .quitSignal, .handoff, .connection(0), .connection(3), .connection(Int32.max)]
        for w in all { #expect(WorkerWakeup(data: w.data) == w) }
        #expect(Set(all.map(\.data)).count == all.count)
        #expect(WorkerWakeup(data: 99) == nil)
    }
}
