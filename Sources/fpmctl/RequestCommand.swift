import ArgumentParser
import FPMStatus
import FPMSystem
import FastCGI
import FastCGIClient

/// `fpmctl request`: one FastCGI request, the response printed as a CGI program's would be:
/// with --include the status line and the headers first, once, then the body.
struct RequestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "request", abstract: "Send one FastCGI request and print the response.")
    @Option(name: .long, help: "Address: host:port, [v6]:port or a unix socket path.") var connect: String
    @Option(name: .long) var method: String = "GET"
    @Option(name: .long, help: "Request URI (path?query).") var uri: String = "/"
    @Option(name: .long, help: "SCRIPT_FILENAME (default: the URI's path).") var script: String?
    @Option(name: .long, help: "Extra params NAME=VALUE.") var param: [String] = []
    @Option(name: .long, help: "Request body.") var body: String?
    @Flag(name: .long, help: "Print the status line and the response headers before the body.") var include = false
    @Option(name: .long) var timeout: Double = 30

    func run() throws {
        guard let address = FastCGIAddress(connect) else { throw ValidationError("bad address \(connect)") }
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        let query = parts.count > 1 ? String(parts[1]) : ""
        var params: [(String, String)] = [
            ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "fpmctl"), ("REQUEST_METHOD", method),
            ("REQUEST_URI", uri), ("SCRIPT_NAME", path), ("SCRIPT_FILENAME", script ?? path),
            ("QUERY_STRING", query), ("SERVER_PROTOCOL", "HTTP/1.1"), ("REMOTE_ADDR", "127.0.0.1"),
        ]
        let bodyBytes = Array((body ?? "").utf8)
        if body != nil { params.append(("CONTENT_LENGTH", String(bodyBytes.count))) }
        for p in param {
            guard let eq = p.firstIndex(of: "=") else { throw ValidationError("--param wants NAME=VALUE") }
            params.append((String(p[..<eq]), String(p[p.index(after: eq)...])))
        }
        let client = try FastCGIClient(connectingTo: address, timeout: timeout)
        defer { client.close() }
        let response = try client.request(params: params, body: bodyBytes)
        // One write for the head, then the body, both unbuffered: piped, nothing reorders them.
        if include { try? FileIO.writeAll(1, RequestCommand.head(of: response)) }
        try? FileIO.writeAll(1, response.body)
        if !response.stderr.isEmpty { try? FileIO.writeAll(2, response.stderr) }
    }

    /// `Status: …` once (the app's own Status header, else the code), the other headers, a blank line.
    static func head(of response: FastCGIResponse) -> String {
        let status = response.headers.last { $0.0.lowercased() == "status" }?.1 ?? String(response.status)
        var head = "Status: \(status)\n"
        for (name, value) in response.headers where name.lowercased() != "status" { head += "\(name): \(value)\n" }
        return head + "\n"
    }
}
