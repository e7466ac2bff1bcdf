import FPMConfiguration
import Testing

/// `pm.warm_template`: a boolean, off by default, written back by `-tt`, refused for exec pools
/// with file and line.
@Suite struct WarmTemplateDirectiveTests {
    @Test func isOffByDefaultAndReadsABoolean() throws {
        #expect(try loadPool("").warmTemplate == false)
        #expect(try loadPool("pm.warm_template = yes").warmTemplate == true)
        #expect(try loadPool("pm.warm_template = off").warmTemplate == false)
    }

    @Test func aBadValueNamesFileAndLine() {
        let found = errors(minimalPool + "pm.warm_template = maybe\n")
        #expect(found.count == 1 && found[0].contains("t.conf:6: pm.warm_template = maybe"), "\(found)")
    }

    @Test func renderingReadsBack() throws {
        let configuration = try load(minimalPool + "pm.warm_template = yes\n")
        #expect(configuration.renderEffective().contains("pm.warm_template = yes"))
        #expect(try load(configuration.renderEffective()).pools[0].warmTemplate)
    }

    @Test func anExecPoolIsRefused() {
        let found = errors(minimalPool + "exec = /usr/bin/php-cgi\npm.warm_template = yes\n")
        #expect(found.contains { $0.contains("pm.warm_template") && $0.contains("needs a Swift handler pool") }, "\(found)")
    }
}
