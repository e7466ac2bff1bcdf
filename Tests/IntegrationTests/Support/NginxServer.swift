import Foundation
import Testing

/// A real nginx in front of swift-fpm, on its own port and temp prefix.
final class NginxServer {
    let dir: String
    let port: Int
    var child: ChildProcess!

    static var binary: String? {
        ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `upstream` is the fastcgi_pass target (host:port or unix:/path).
    init(upstream: String, keepalive: Int = 0, extraLocation: String = "", documentRoot: String = "/srv") throws {
        guard let binary = NginxServer.binary else {
            throw FPMServer.ServerError("nginx is not installed: run `make test`, which installs it")
        }
        dir = TestSupport.makeTempDirectory("nginx")
        port = TestSupport.freePort()
        for sub in ["tmp", "logs"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        let upstreamBlock = """
        upstream fpm {
            server \(upstream);
            \(keepalive > 0 ? "keepalive \(keepalive);" : "")
        }
        """
        let conf = NginxConfiguration.main(dir: dir, http: """
            client_max_body_size 64m;
            \(upstreamBlock)
            server {
                listen 127.0.0.1:\(port);
                root \(documentRoot);
                location / {
                    include /etc/nginx/fastcgi_params;
                    fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
                    fastcgi_pass fpm;
                    \(keepalive > 0 ? "fastcgi_keep_conn on;" : "")
                    \(extraLocation)
                }
            }
        """)
        TestSupport.write(dir + "/nginx.conf", conf)
        child = try ChildProcess(binary, ["-p", dir, "-c", dir + "/nginx.conf"], directory: dir)
        let port = self.port
        guard TestSupport.waitUntil(timeout: 10, { TestSupport.canConnect(port: port) }) else {
            throw FPMServer.ServerError("nginx did not start: \(child.stderr) \(TestSupport.read(dir + "/logs/error.log"))")
        }
    }

    var errorLog: String { TestSupport.read(dir + "/logs/error.log") }

    func get(_ path: String, method: String = "GET", body: [UInt8] = [], headers: [(String, String)] = []) throws -> HTTPResponse {
        try HTTPClient.request(port: port, method: method, path: path, body: body, headers: headers)
    }

    deinit {
        child?.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

struct HTTPResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

/// A minimal HTTP/1.0 client over a blocking socket (Connection: close).
enum HTTPClient {
    static func request(port: Int, method: String, path: String, body: [UInt8], headers: [(String, String)],
                        timeout: Int = 30) throws -> HTTPResponse {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw FPMServer.ServerError("connect to nginx failed: errno \(errno)") }
        // A Host among `headers` replaces the default one (HAProxy and Caddy read it for SERVER_NAME).
        let host = headers.contains { $0.0.lowercased() == "host" } ? "" : "Host: localhost\r\n"
        var head = "\(method) \(path) HTTP/1.0\r\n\(host)Connection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var out = Array(head.utf8) + body
        var sent = 0
        while sent < out.count {
            let n = out.withUnsafeMutableBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw FPMServer.ServerError("send failed: errno \(errno)") }
            sent += n
        }
        var response: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw FPMServer.ServerError("recv failed: errno \(errno)") }
            if n == 0 { break }
            response.append(contentsOf: buf[0..<n])
        }
        guard let sep = findHeaderEnd(response) else { throw FPMServer.ServerError("no HTTP head in \(response.count) bytes") }
        let headText = String(decoding: response[0..<sep], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
        let hdrs = lines.compactMap { line -> (String, String)? in
            guard let c = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<c]), line[line.index(after: c)...].trimmingCharacters(in: .whitespaces))
        }
        return HTTPResponse(status: status, headers: hdrs, body: Array(response[(sep + 4)...]))
    }

    static func findHeaderEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
        return nil
    }
}
