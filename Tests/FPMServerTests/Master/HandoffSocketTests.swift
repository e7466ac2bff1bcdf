@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// A pool's hand-off socket is one self-connected datagram socket: what a worker sends on it
/// is received on it, and no other process can put a descriptor into it.
@Suite struct HandoffSocketTests {
    @Test func itIsOneDescriptorThatReceivesWhatIsSentOnIt() throws {
        let handoff = try HandoffSocket.make()
        defer { handoff.close() }
        #expect(handoff.read == handoff.write)
        #expect(handoff.descriptors == [handoff.read])
        let connection = try FileIO.pipe()
        defer { FileIO.close(connection.read); FileIO.close(connection.write) }
        let peer = PeerAddress(family: .ipv4, bytes: [127, 0, 0, 1], port: 8080)
        #expect(HandoffMessage.receive(from: handoff.read) == nil)
        #expect(HandoffMessage(connection: connection.write, peer: peer).send(over: handoff.write))
        let message = try #require(HandoffMessage.receive(from: handoff.read))
        defer { FileIO.close(message.connection) }
        #expect(message.peer == peer)
        #expect(try WorkerMessageTests.proveSameFile(message.connection, as: connection))
        #expect(HandoffMessage.receive(from: handoff.read) == nil)
    }

    @Test func anotherSocketCannotSendToIt() throws {
        let handoff = try HandoffSocket.make()
        defer { handoff.close() }
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(handoff.read, $0, &length) }
        }
        #expect(named == 0)
        // An abstract address (kernel-chosen: a NUL, then five hex digits).
        #expect(length > socklen_t(MemoryLayout<sa_family_t>.size))
        #expect(withUnsafeBytes(of: &address.sun_path) { $0[0] } == 0)
        let intruder = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(intruder >= 0)
        defer { close(intruder) }
        var byte: UInt8 = 1
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(intruder, &byte, 1, Int32(MSG_DONTWAIT), $0, length) }
        }
        #expect(sent == -1)
        #expect(errno == EPERM)
        #expect(HandoffMessage.receive(from: handoff.read) == nil)
    }

    @Test func aSocketpairInheritedFromAnOlderImageKeepsItsTwoDescriptors() throws {
        let pair = try FileIO.datagramPair()
        let handoff = HandoffSocket(read: pair.read, write: pair.write)
        #expect(handoff.descriptors == [pair.read, pair.write])
        handoff.close()
        #expect(fcntl(pair.read, F_GETFD) == -1 && fcntl(pair.write, F_GETFD) == -1)
    }
}
