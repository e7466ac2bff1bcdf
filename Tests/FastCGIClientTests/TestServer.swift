import FPMSystem
import FastCGI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A listening socket (unix in a temp dir, or TCP on an ephemeral loopback port) served by one
/// background thread with `RequestParser` and `ResponseWriter`, for client tests.
final class TestServer: Sendable {
    enum Behaviour: Sendable {
        /// Echo: `Status: 201`, `X-Method`, `X-Peer` headers, the body back, "log" on STDERR, app status 7.
        case echo
        /// Accept, read, never answer (until the peer closes).
        case silent
        /// Read one request, then close without END_REQUEST.
        case closeEarly
    }

    let address: FastCGIAddress
    let listenFD: Int32
    let dir: String?

    init(tcp: Bool = false, behaviour: Behaviour = .echo) throws {
        if tcp {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = INADDR_ANY  // so 127.0.0.2 can connect too
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            try withUnsafeMutablePointer(to: &addr) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    guard bind(fd, $0, len) == 0, listen(fd, 8) == 0, getsockname(fd, $0, &len) == 0 else {
                        throw POSIXError(POSIXErrorCode(rawValue: errno)!)
                    }
                }
            }
            listenFD = fd
            dir = nil
            address = .tcp("127.0.0.1", UInt16(bigEndian: addr.sin_port))
        } else {
            let d = FileManager.default.temporaryDirectory.appendingPathComponent("fcgi-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            let path = d + "/s.sock"
            listenFD = try Socket.listenUnix(path: path, backlog: 8, mode: 0o600, owner: nil, group: nil)
            dir = d
            address = .unix(path)
        }
        let fd = listenFD
        let thread = Thread { TestServer.serve(fd, behaviour) }
        thread.start()
    }

    deinit {
        // Wakes the thread's accept() (EINVAL); the thread closes the descriptor itself, so its
        // number cannot be reused by another test's socket while the thread still accepts on it.
        shutdown(listenFD, Int32(SHUT_RDWR))
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    private static func serve(_ listenFD: Int32, _ behaviour: Behaviour) {
        var parser = RequestParser(management: ManagementValues(maxConns: 3, maxReqs: 4))
        var writer = ResponseWriter(requestID: 1)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var peer = sockaddr_storage()
            var peerLen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let conn = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listenFD, $0, &peerLen) }
            }
            guard conn >= 0 else {
                close(listenFD)
                return
            }
            let peerName = describe(peer)
            parser.reset()
            var method = ""
            var body: [UInt8] = []
            connection: while true {
                let n = chunk.withUnsafeMutableBytes { read(conn, $0.baseAddress!, $0.count) }
                guard n > 0 else { break }
                chunk.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                do {
                    while let event = try parser.nextEvent() {
                        switch event {
                        case .reply(let r): writeAll(conn, r)
                        case .begin(let id, _, _):
                            writer.reset(requestID: id)
                            body = []
                        case .params(let p): method = p["REQUEST_METHOD"] ?? "-"
                        case .stdin(let s): body += s
                        case .stdinEnd:
                            switch behaviour {
                            case .silent: continue
                            case .closeEarly: break connection
                            case .echo: break
                            }
                            writer.stdout("Status: 201 Created\r\nX-Method: \(method)\r\nX-Peer: \(peerName)\r\n\r\n")
                            writer.stdout(body)
                            writer.stderr("log")
                            writer.end(appStatus: 7)
                            writer.withBytes { writeAll(conn, Array($0)) }
                            let keep = parser.keepConnection
                            parser.requestFinished()
                            if !keep { break connection }
                        default: break
                        }
                    }
                } catch {
                    break
                }
            }
            close(conn)
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { return }
                off += n
            }
        }
    }

    private static func describe(_ s: sockaddr_storage) -> String {
        guard s.ss_family == sa_family_t(AF_INET) else { return "unix" }
        var s = s
        return withUnsafePointer(to: &s) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                var a = p.pointee.sin_addr
                var buf = [CChar](repeating: 0, count: 64)
                inet_ntop(AF_INET, &a, &buf, 64)
                return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }
}
