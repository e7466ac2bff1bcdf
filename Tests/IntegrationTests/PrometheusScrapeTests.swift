import FastCGI
import Foundation
import Testing

/// `?openmetrics&strict` as the tools read it: `promtool check metrics` (Debian's `prometheus`
/// package) and prometheus_client's strict OpenMetrics parser accept it, and a real Prometheus
/// scrapes it through nginx and stores the right values.
@Suite(.serialized) struct PrometheusScrapeTests {
    static let promtool = "/usr/bin/promtool"
    static let prometheus = "/usr/bin/prometheus"

    /// A pool with a status listener that has served `requests` requests.
    static func servedPool(_ name: String, requests: Int) throws -> (FPMServer, String) {
        let status = "127.0.0.1:\(TestSupport.freePort())"
        let server = try FPMServer(name: name, pool: """
        pm.status_path = /status
        pm.status_listen = \(status)
        """)
        #expect(server.waitForWorkers(2))
        for i in 0..<requests { #expect(try server.request("/?i=\(i)").status == 200) }
        return (server, status)
    }

    /// `promtool check metrics < file`: (exit status, what it printed).
    static func promtoolCheck(_ path: String) throws -> (status: Int32, output: String) {
        let r = try runCommand("/bin/sh", ["-c", "\(promtool) check metrics < \"$1\" 2>&1", "sh", path])
        return (r.status, r.stdout + r.stderr)
    }

    @Test func theStrictPagePassesPromtoolAndTheStrictParser() throws {
        let (server, status) = try Self.servedPool("promtool", requests: 5)
        var strict = ""
        #expect(TestSupport.waitUntil(timeout: 5) {
            strict = (try? StatusListenerTests.get(status, "/status?openmetrics&full&strict"))?.bodyText ?? ""
            return strict.contains("phpfpm_request_duration_seconds_count 5\n")
        }, "\(strict)")
        let plain = try StatusListenerTests.get(status, "/status?openmetrics&full").bodyText
        TestSupport.write(server.dir + "/strict.txt", strict)
        TestSupport.write(server.dir + "/plain.txt", plain)

        let checked = try Self.promtoolCheck(server.dir + "/strict.txt")
        #expect(checked.status == 0, "promtool: \(checked.output)")
        // The default page stays php-fpm's (counters without `_total`), which promtool lints as such.
        let php = try Self.promtoolCheck(server.dir + "/plain.txt")
        #expect(php.status != 0 && php.output.contains("phpfpm_accepted_connections counter metrics should have \"_total\" suffix"),
                "\(php.output)")

        TestSupport.write(server.dir + "/parse.py", """
        import sys
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
        for family in text_string_to_metric_families(open(sys.argv[1]).read()):
            for s in family.samples:
                print(family.name, family.type, s.name, s.value)
        """)
        let r = try runCommand("/usr/bin/env", ["python3", server.dir + "/parse.py", server.dir + "/strict.txt"])
        #expect(r.status == 0, "the strict OpenMetrics parser refused the page: \(r.stderr)")
        #expect(r.stdout.contains("phpfpm_accepted_connections_total unknown phpfpm_accepted_connections_total 5"), "\(r.stdout)")
        #expect(r.stdout.contains("phpfpm_request_duration_seconds histogram phpfpm_request_duration_seconds_count 5"), "\(r.stdout)")
    }

    @Test func prometheusScrapesTheStrictPageThroughNginx() throws {
        let (server, status) = try Self.servedPool("prometheus", requests: 7)
        let nginx = try NginxServer(upstream: status)
        #expect(try nginx.get("/status?openmetrics&strict").status == 200)

        let dir = TestSupport.makeTempDirectory("prometheus")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = TestSupport.freePort()
        TestSupport.write(dir + "/prometheus.yml", """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
        scrape_configs:
          - job_name: swift-fpm
            metrics_path: /status
            params: { openmetrics: [""], strict: [""] }
            static_configs:
              - targets: ["127.0.0.1:\(nginx.port)"]
        """)
        let prometheus = try ChildProcess(Self.prometheus, [
            "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ], directory: dir)
        defer { prometheus.stop() }

        /// The value of `query`'s first series, as Prometheus's HTTP API answers it.
        func value(_ query: String) -> Double? {
            let escaped = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
            guard let r = try? HTTPClient.request(port: port, method: "GET", path: "/api/v1/query?query=\(escaped)",
                                                  body: [], headers: []),
                  let json = try? JSONSerialization.jsonObject(with: Data(r.text.utf8)) as? [String: Any],
                  let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
                  let sample = result.first?["value"] as? [Any], let text = sample.last as? String else { return nil }
            return Double(text)
        }
        #expect(TestSupport.waitUntil(timeout: 30, interval: 0.25) {
            value(#"phpfpm_accepted_connections_total{job="swift-fpm"}"#) == 7
        }, "Prometheus: \(prometheus.stderr)")
        #expect(value(#"up{job="swift-fpm"}"#) == 1)
        #expect(value(#"phpfpm_request_duration_seconds_count{job="swift-fpm"}"#) == 7)
        #expect(value(#"phpfpm_max_children{job="swift-fpm"}"#) == 2)
        _ = server
    }
}
