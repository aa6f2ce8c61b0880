/// A camera without a camera, as `SyntheticVoice` is a microphone without one: for each
/// person a deterministic moving scene — a background in their own colour, a face with their
/// initials, a square that moves every frame, the frame number written out — and a `VideoTag`
/// strip so a receiver can tell who is shown and which frame it is (`VideoAnalyser`).
public struct SyntheticCamera: Sendable {
    public static let defaultWidth = 160
    public static let defaultHeight = 120
    public static let defaultFramesPerSecond = 15
    /// The smallest picture whose tag strip and initials stay readable after VP8.
    public static let minimumWidth = 96
    public static let minimumHeight = 72

    public let person: String
    public let width: Int
    public let height: Int
    public let framesPerSecond: Int
    public let code: UInt16
    private let background: VideoColour
    private let face: VideoColour
    private let initials: String

    public init(
        person: String, width: Int = defaultWidth, height: Int = defaultHeight, framesPerSecond: Int = defaultFramesPerSecond
    ) {
        precondition(width >= Self.minimumWidth && height >= Self.minimumHeight && width % 2 == 0 && height % 2 == 0)
        precondition((1...60).contains(framesPerSecond))
        self.person = person
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        code = VideoTag.code(for: person)
        // A hue per person, kept dark enough that the white square and strip stand out.
        let hue = Double(code % 360) / 60
        let sector = Int(hue), fraction = hue - Double(sector)
        let (high, low) = (150, 40)
        let rising = low + Int(Double(high - low) * fraction), falling = high - Int(Double(high - low) * fraction)
        let rgb: (Int, Int, Int) =
            switch sector {
            case 0: (high, rising, low)
            case 1: (falling, high, low)
            case 2: (low, high, rising)
            case 3: (low, falling, high)
            case 4: (rising, low, high)
            default: (high, low, falling)
            }
        background = VideoColour(red: rgb.0, green: rgb.1, blue: rgb.2)
        face = VideoColour(red: 238, green: 200, blue: 160)
        initials = Self.initials(of: person)
    }

    /// Up to two letters: each word's first letter, or a number's last two digits.
    static func initials(of name: String) -> String {
        let words = name.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "." })
        if name.first == "+" || name.allSatisfy(\.isNumber) { return String(name.filter(\.isNumber).suffix(2)) }
        return String(words.prefix(2).compactMap(\.first)).uppercased()
    }

    /// Frame `index`, captured at `stampMilliseconds` (any clock; the tag keeps it modulo 4,096).
    public func frame(_ index: Int, stampMilliseconds: Int = 0) -> VideoFrame {
        var frame = VideoFrame(width: width, height: height, luma: background.luma, cb: background.cb, cr: background.cr)
        let band = VideoTag.layout(width: width, height: height).top
        // The face: a square-ish block in the middle of the area above the strip.
        let faceSize = min(width / 2, band * 3 / 4) & ~1
        let faceX = (width - faceSize) / 2, faceY = (band - faceSize) / 2
        frame.fill(x: faceX, y: faceY, width: faceSize, height: faceSize, colour: face)
        let scale = max(1, faceSize / 2 / GlyphFont.height)
        let textWidth = GlyphFont.width(of: initials, scale: scale)
        GlyphFont.draw(
            initials, into: &frame, x: faceX + (faceSize - textWidth) / 2, y: faceY + (faceSize - GlyphFont.height * scale) / 2,
            scale: scale, colour: .black)
        // Something that moves every frame: a white square going round the edge of the face area.
        let square = max(4, height / 15), track = max(1, width - square)
        let position = (index * 3) % (2 * track)
        let x = position < track ? position : 2 * track - position
        frame.fill(x: x, y: band - square - 1, width: square, height: square, colour: .white)
        // The frame number, for a person looking at it.
        GlyphFont.draw(String(index % 100_000), into: &frame, x: 2, y: 2, scale: 1, colour: .white)
        VideoTag(person: code, frame: UInt16(truncatingIfNeeded: index), stamp: UInt16(truncatingIfNeeded: stampMilliseconds & 0x0FFF))
            .draw(into: &frame)
        return frame
    }
}
