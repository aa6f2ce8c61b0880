import DuetClient

/// The pictures in the call pane (docs/video.md "In the terminal"): the peer's as large as
/// the rows allow, this camera's small beside it ("you"), and "camera off" where a camera is
/// off. Pictures are drawn by `PictureCells` at the terminal's colour depth.
enum CallVideoView {
    /// Fewer rows than this and the pictures are left out (a line says so).
    static let minimumRows = 4
    /// The gap between the peer's picture and the self-view.
    static let gap = 2
    /// Pictures are assumed 4:3 before the first arrives.
    static let assumedSize = (width: 160, height: 120)

    /// The rows the pictures would use at most in `width` columns (and at most `height`): the
    /// peer's picture at the pane's width less the self-view's, undistorted.
    static func rowsWanted(_ video: CallVideo, width: Int, height: Int) -> Int {
        let size = (video.peer?.width ?? assumedSize.width, video.peer?.height ?? assumedSize.height)
        return PictureCells.fit(width: size.0, height: size.1, columns: peerColumns(width), rows: max(1, height)).rows
    }

    /// The self-view takes a fifth of the width (at least 8 columns).
    static func selfColumns(_ width: Int) -> Int { max(8, width / 5) }
    static func peerColumns(_ width: Int) -> Int { max(0, width - selfColumns(width) - gap) }

    /// Exactly `rows` lines of at most `width` columns.
    static func lines(_ video: CallVideo, peerName: String, width: Int, rows: Int, colours: ColourDepth) -> [StyledText] {
        let peer = area(
            video.peerCameraOff ? nil : video.peer, columns: peerColumns(width), rows: rows, colours: colours,
            empty: video.peerCameraOff ? "\(peerName): camera off" : "waiting for \(peerName)'s picture…")
        let selfRows = max(2, rows / 3)
        var own =
            video.own.map { picture in
                PictureCells.rows(picture, columns: selfColumns(width), rows: selfRows, depth: colours).map { StyledText(cells: $0) }
            } ?? []
        switch video.cameraOn {
        case true?: own.append(StyledText("you", .dim))
        case false?: own.append(StyledText("camera off", .dim))
        case nil: own.append(StyledText("no camera", .dim))
        }
        let peerWidth = peer.map(\.count).max() ?? 0
        return (0..<rows).map { row in
            let left = row < peer.count ? peer[row] : StyledText()
            let right = row < own.count ? own[row] : StyledText()
            return (left.padded(to: peerWidth) + .spaces(gap) + right).truncated(to: width)
        }
    }

    /// A picture fitted into `columns` × `rows`, or a dim frame of the same size with `empty`
    /// in its middle.
    private static func area(_ picture: VideoPicture?, columns: Int, rows: Int, colours: ColourDepth, empty: String) -> [StyledText] {
        if let picture {
            return PictureCells.rows(picture, columns: columns, rows: rows, depth: colours).map { StyledText(cells: $0) }
        }
        let size = PictureCells.fit(width: assumedSize.width, height: assumedSize.height, columns: columns, rows: rows)
        let message = StyledText(empty, .dim).truncated(to: size.columns)
        return (0..<size.rows).map { row in
            guard row == size.rows / 2 else { return .spaces(size.columns) }
            let left = (size.columns - message.count) / 2
            return (.spaces(left) + message).padded(to: size.columns)
        }
    }
}
