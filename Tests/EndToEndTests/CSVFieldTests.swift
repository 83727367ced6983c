import Testing
import Reports

@Suite struct CSVFieldTests {
    @Test func quotesPerRFC4180() {
        #expect(CSVField.quote("plain") == "plain")
        #expect(CSVField.quote("a,b") == "\"a,b\"")
        #expect(CSVField.quote("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVField.row(["a", "b\nc"]) == "a,\"b\nc\"\r\n")
    }

    @Test func defusesFormulas() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] { #expect(CSVField.defuse(s).hasPrefix("'")) }
        #expect(CSVField.defuse("Transmission 3.00") == "Transmission 3.00")
    }
}
