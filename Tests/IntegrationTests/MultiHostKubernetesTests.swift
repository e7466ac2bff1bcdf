import Foundation
import Testing

/// examples/kubernetes: the manifests are valid Kubernetes objects (`kubernetes-validate
/// --strict` against the pinned version mk/multihost.mk passes in KUBERNETES_VERSION), and the
/// pod's grace period covers swift-fpm's graceful stop.
@Suite(.enabled(if: MultiHost.enabled))
struct MultiHostKubernetesTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/kubernetes")
        .standardized.path

    static var manifests: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
            .map { folder + "/" + $0 }
    }

    static var validator: String? { ProcessInfo.processInfo.environment["KUBERNETES_VALIDATE"] }
    static var version: String { ProcessInfo.processInfo.environment["KUBERNETES_VERSION"] ?? "1.31.0" }

    @Test("the manifests pass kubernetes-validate --strict, and a broken one does not")
    func manifestsValidate() throws {
        let validator = try #require(Self.validator.flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil },
                                     "kubernetes-validate is missing: `make test-multihost` installs it (KUBERNETES_VALIDATE)")
        let manifests = Self.manifests
        #expect(manifests.map { ($0 as NSString).lastPathComponent }
            == ["configmap.yaml", "deployment.yaml", "poddisruptionbudget.yaml", "service.yaml"])
        let r = try runCommand(validator, ["--strict", "-k", Self.version] + manifests, timeout: 120)
        #expect(r.status == 0, "kubernetes-validate: \(r.stdout)\(r.stderr)")
        #expect(r.stdout.components(separatedBy: " passed for resource ").count - 1 == manifests.count, "\(r.stdout)")

        // The validator does reject: a misspelt field in the pod spec.
        let dir = TestSupport.makeTempDirectory("k8s")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let broken = TestSupport.read(Self.folder + "/deployment.yaml")
            .replacingOccurrences(of: "terminationGracePeriodSeconds:", with: "terminationGracePeriod:")
        TestSupport.write(dir + "/deployment.yaml", broken)
        let rejected = try runCommand(validator, ["--strict", "-k", Self.version, dir + "/deployment.yaml"], timeout: 120)
        #expect(rejected.status != 0, "a misspelt field passed: \(rejected.stdout)")
    }

    @Test("terminationGracePeriodSeconds covers the preStop sleep plus process_control_timeout")
    func gracePeriodCoversTheGracefulStop() throws {
        let config = TestSupport.read(Self.folder + "/configmap.yaml")
        let deployment = TestSupport.read(Self.folder + "/deployment.yaml")
        func number(after key: String, in text: String) -> Int? {
            guard let range = text.range(of: key) else { return nil }
            return Int(text[range.upperBound...].prefix { $0 == " " || $0.isNumber }.trimmingCharacters(in: .whitespaces))
        }
        let timeout = try #require(number(after: "process_control_timeout =", in: config))
        let grace = try #require(number(after: "terminationGracePeriodSeconds:", in: deployment))
        let preStop = try #require(number(after: "drain -y /etc/swift-fpm/fpm.conf; sleep", in: deployment))
        #expect(grace >= preStop + timeout, "grace \(grace) s < preStop \(preStop) s + process_control_timeout \(timeout) s")
        #expect(config.contains("graceful_sigterm = yes"))
    }
}
