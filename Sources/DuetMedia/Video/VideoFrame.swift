/// One picture in I420 (Y at full size, U and V at half width and height), the layout libvpx
/// takes and gives. Sizes are even: chroma halves them exactly.
public struct VideoFrame: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var y: [UInt8]
    public var u: [UInt8]
    public var v: [UInt8]

    /// A frame filled with one colour (`luma`, `cb`, `cr`).
    public init(width: Int, height: Int, luma: UInt8 = 16, cb: UInt8 = 128, cr: UInt8 = 128) {
        precondition(width > 0 && height > 0 && width % 2 == 0 && height % 2 == 0, "I420 needs an even, non-empty size")
        self.width = width
        self.height = height
        y = [UInt8](repeating: luma, count: width * height)
        u = [UInt8](repeating: cb, count: width * height / 4)
        v = [UInt8](repeating: cr, count: width * height / 4)
    }

    /// A frame from planes already laid out (a decoder's output).
    public init(width: Int, height: Int, y: [UInt8], u: [UInt8], v: [UInt8]) {
        precondition(y.count == width * height && u.count == width * height / 4 && v.count == u.count, "planes do not match the size")
        self.width = width
        self.height = height
        self.y = y
        self.u = u
        self.v = v
    }

    /// Paints the rectangle (clipped to the frame) with a colour.
    public mutating func fill(x: Int, y top: Int, width w: Int, height h: Int, colour: VideoColour) {
        let left = max(0, x), right = min(width, x + w), upper = max(0, top), lower = min(height, top + h)
        guard left < right, upper < lower else { return }
        for row in upper..<lower {
            let start = row * width
            for column in left..<right { y[start + column] = colour.luma }
        }
        for row in (upper / 2)..<((lower + 1) / 2) {
            let start = row * (width / 2)
            for column in (left / 2)..<((right + 1) / 2) {
                u[start + column] = colour.cb
                v[start + column] = colour.cr
            }
        }
    }

    /// The mean luma of a rectangle (clipped; 0 when empty).
    public func meanLuma(x: Int, y top: Int, width w: Int, height h: Int) -> Int {
        let left = max(0, x), right = min(width, x + w), upper = max(0, top), lower = min(height, top + h)
        guard left < right, upper < lower else { return 0 }
        var sum = 0
        for row in upper..<lower {
            let start = row * width
            for column in left..<right { sum += Int(y[start + column]) }
        }
        return sum / ((right - left) * (lower - upper))
    }
}

extension VideoFrame {
    /// The picture as packed 8-bit RGB, row by row (BT.601 studio swing, the inverse of
    /// `VideoColour(red:green:blue:)`), for drawing it on a screen. Fixed point, 16 bits.
    public func rgb() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let half = width / 2
        out.withUnsafeMutableBufferPointer { pixels in
            for row in 0..<height {
                let chromaRow = (row / 2) * half
                for column in 0..<width {
                    let c = 76_309 * (Int(y[row * width + column]) - 16)
                    let d = Int(u[chromaRow + column / 2]) - 128, e = Int(v[chromaRow + column / 2]) - 128
                    let at = (row * width + column) * 3
                    pixels[at] = UInt8(clamping: (c + 104_597 * e + 32_768) >> 16)
                    pixels[at + 1] = UInt8(clamping: (c - 25_675 * d - 53_279 * e + 32_768) >> 16)
                    pixels[at + 2] = UInt8(clamping: (c + 132_201 * d + 32_768) >> 16)
                }
            }
        }
        return out
    }
}

/// A colour in studio-swing YCbCr (BT.601), as I420 stores it.
public struct VideoColour: Sendable, Equatable {
    public var luma: UInt8
    public var cb: UInt8
    public var cr: UInt8

    public init(luma: UInt8, cb: UInt8, cr: UInt8) {
        self.luma = luma
        self.cb = cb
        self.cr = cr
    }

    /// From 8-bit RGB.
    public init(red: Int, green: Int, blue: Int) {
        let r = Double(red), g = Double(green), b = Double(blue)
        luma = UInt8(clamping: Int((16 + 0.257 * r + 0.504 * g + 0.098 * b).rounded()))
        cb = UInt8(clamping: Int((128 - 0.148 * r - 0.291 * g + 0.439 * b).rounded()))
        cr = UInt8(clamping: Int((128 + 0.439 * r - 0.368 * g - 0.071 * b).rounded()))
    }

    public static let black = VideoColour(luma: 16, cb: 128, cr: 128)
    public static let white = VideoColour(luma: 235, cb: 128, cr: 128)
}
