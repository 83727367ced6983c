// Capture timestamps: nanoseconds since the Unix epoch, UTC. Int64 nanoseconds reach year 2262,
// past every 32-bit-seconds pcap timestamp (which ends in 2106).

public struct Timestamp: Hashable, Comparable, Sendable {
    public var nanoseconds: Int64
    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    @inlinable public init(seconds: Int64, nanos: Int64) { self.nanoseconds = seconds &* 1_000_000_000 &+ nanos }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }

    public var seconds: Int64 { nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000 }
    public var subsecondNanos: Int64 { nanoseconds - seconds * 1_000_000_000 }

    /// Days since 1970-01-01 (UTC).
    public var dayNumber: Int64 { seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400 }

    /// RFC 3339 in UTC with `fractionDigits` fractional digits (0, 3, 6 or 9), e.g. `2021-11-03T14:22:01.123456Z`.
    public func rfc3339(fractionDigits: Int = 9) -> String {
        let (y, m, d) = Timestamp.civil(fromDays: dayNumber)
        let sod = seconds - dayNumber * 86_400
        var s = "\(pad(y, 4))-\(pad(Int64(m), 2))-\(pad(Int64(d), 2))T\(pad(sod / 3600, 2)):\(pad(sod / 60 % 60, 2)):\(pad(sod % 60, 2))"
        if fractionDigits > 0 {
            let digits = min(fractionDigits, 9)
            var frac = subsecondNanos
            for _ in 0..<(9 - digits) { frac /= 10 }
            s += "." + pad(frac, digits)
        }
        return s + "Z"
    }

    /// `YYYY-MM-DD` of the UTC day.
    public var utcDay: String {
        let (y, m, d) = Timestamp.civil(fromDays: dayNumber)
        return "\(pad(y, 4))-\(pad(Int64(m), 2))-\(pad(Int64(d), 2))"
    }

    /// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    public static func civil(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Inverse of `civil(fromDays:)`.
    public static func days(fromCivil y0: Int64, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mm = Int64(m > 2 ? m - 3 : m + 9)
        let doy = (153 * mm + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.frac]Z` (or `+00:00`), as users type for --since/--until.
    public init?(rfc3339 text: String) {
        let u = Array(text.utf8)
        func num(_ a: Int, _ n: Int) -> Int64? {
            guard a + n <= u.count else { return nil }
            var v: Int64 = 0
            for i in a..<(a + n) { guard u[i] >= 48, u[i] <= 57 else { return nil }; v = v * 10 + Int64(u[i] - 48) }
            return v
        }
        guard let y = num(0, 4), u.count >= 10, u[4] == 45, let mo = num(5, 2), u[7] == 45, let d = num(8, 2),
              (1...12).contains(mo), (1...31).contains(d) else { return nil }
        var secs = Timestamp.days(fromCivil: y, Int(mo), Int(d)) * 86_400
        var nanos: Int64 = 0
        if u.count > 10 {
            guard u[10] == 84 || u[10] == 116 || u[10] == 32, let h = num(11, 2), u.count > 13, u[13] == 58,
                  let mi = num(14, 2), u.count > 16, u[16] == 58, let s = num(17, 2), h < 24, mi < 60, s < 61 else { return nil }
            secs += h * 3600 + mi * 60 + s
            var i = 19
            if i < u.count, u[i] == 46 {
                i += 1
                var digits = 0
                while i < u.count, u[i] >= 48, u[i] <= 57 {
                    if digits < 9 { nanos = nanos * 10 + Int64(u[i] - 48); digits += 1 }
                    i += 1
                }
                for _ in digits..<9 { nanos *= 10 }
            }
            let zone = String(decoding: u[i...], as: UTF8.self)
            guard zone == "Z" || zone == "z" || zone == "+00:00" || zone.isEmpty else { return nil }
        }
        self.init(seconds: secs, nanos: nanos)
    }
}

@usableFromInline func pad(_ v: Int64, _ width: Int) -> String {
    let s = String(v < 0 ? -v : v)
    let body = s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    return v < 0 ? "-" + body : body
}
