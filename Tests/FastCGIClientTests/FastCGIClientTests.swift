import FastCGI
import FastCGIClient
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Blocking client")
struct FastCGIClientTests {
    @Test("a request over a unix socket gets status, headers, body, stderr and app status")
    func requestOverUnixSocket() throws {
        let server = try TestServer()
        let client = try FastCGIClient(connectingTo: server.address, timeout: 5)
        let body = [UInt8](repeating: 0x41, count: 70_000)
        let r = try client.request(params: [("REQUEST_METHOD", "POST")], body: body)
        #expect(r.status == 201)
        #expect(r.header("x-method") == "POST")
        #expect(r.body == body)
        #expect(r.stderr == Array("log".utf8))
        #expect(r.appStatus == 7 && r.protocolStatus == .requestComplete)
        client.close()
        client.close()
    }

    @Test("two requests on one kept connection")
    func keptConnection() throws {
        let server = try TestServer()
        let client = try FastCGIClient(connectingTo: server.address, timeout: 5)
        for i in 1...2 {
            let r = try client.request(params: [("REQUEST_METHOD", "GET\(i)")], keepConnection: true)
            #expect(r.header("X-Method") == "GET\(i)")
        }
    }

    @Test("GET_VALUES returns the application's answers")
    func getValues() throws {
        let server = try TestServer()
        let client = try FastCGIClient(connectingTo: server.address, timeout: 5)
        let values = try client.getValues(["FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS", "NOPE"])
        #expect(values.map(\.0) == ["FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"])
        #expect(values.map(\.1) == ["3", "4", "0"])
    }

    @Test("TCP with a local bind address: the server sees 127.0.0.2")
    func tcpWithBindAddress() throws {
        let server = try TestServer(tcp: true)
        let client = try FastCGIClient(connectingTo: server.address, timeout: 5, bindAddress: "127.0.0.2")
        let r = try client.request(params: [("REQUEST_METHOD", "GET")])
        #expect(r.header("X-Peer") == "127.0.0.2")
        let plain = try FastCGIClient(connectingTo: "127.0.0.1:\(server.address.description.split(separator: ":").last!)")
        #expect(try plain.request(params: []).header("X-Peer") == "127.0.0.1")
    }

    @Test("connecting to nothing names connect and the errno")
    func connectFailures() throws {
        #expect(throws: FastCGIClientError.system(call: "connect", errno: ENOENT)) {
            try FastCGIClient(connectingTo: .unix("/nonexistent/dir/x.sock"), timeout: 1)
        }
        // A port that was just bound and closed is very likely refused.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        close(fd)
        #expect(throws: FastCGIClientError.system(call: "connect", errno: ECONNREFUSED)) {
            try FastCGIClient(connectingTo: .tcp("127.0.0.1", UInt16(bigEndian: addr.sin_port)), timeout: 1)
        }
        #expect(throws: FastCGIClientError.invalidAddress("nope")) { try FastCGIClient(connectingTo: "nope") }
    }

    @Test("a silent application makes recv time out")
    func receiveTimeout() throws {
        let server = try TestServer(behaviour: .silent)
        let client = try FastCGIClient(connectingTo: server.address, timeout: 0.3)
        let start = Date()
        #expect(throws: FastCGIClientError.timedOut(call: "recv")) { try client.request(params: []) }
        #expect(Date().timeIntervalSince(start) < 3)
    }

    @Test("EOF before END_REQUEST is reported as such")
    func eofBeforeEnd() throws {
        let server = try TestServer(behaviour: .closeEarly)
        let client = try FastCGIClient(connectingTo: server.address, timeout: 5)
        #expect(throws: FastCGIClientError.connectionClosed(during: "before END_REQUEST of request 1")) {
            try client.request(params: [])
        }
    }

    @Test("raw bytes: a malformed stream makes the application close; readAll returns what it sent")
    func rawMalformedStream() throws {
        let server = try TestServer()
        let client = try FastCGIClient(connectingTo: server.address, timeout: 5)
        var stream: [UInt8] = []
        Records.append(type: .getValues, requestID: 0, content: NameValuePairs.encode([("FCGI_MPXS_CONNS", "")]), to: &stream)
        stream += Records.beginRequest(requestID: 1, role: .responder, keepConnection: false)
        stream += Records.beginRequest(requestID: 1, role: .responder, keepConnection: false)
        try client.sendRaw(stream)
        let rec = try client.readRecord()
        #expect(rec?.header.recordType == .getValuesResult)
        #expect(try client.readAll().isEmpty)
        #expect(try client.readRecord() == nil)
    }
}
