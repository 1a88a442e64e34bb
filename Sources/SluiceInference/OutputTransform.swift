import Foundation

/// The link that turns raw margins into predictions, chosen from the model's objective.
enum OutputTransform: Sendable, Equatable {
    /// Margins are the predictions (regression, ranking, `binary:logitraw`).
    case identity
    /// `1 / (1 + exp(-scale * m))` (binary classification; LightGBM's `sigmoid` parameter as scale).
    case sigmoid(scale: Double)
    /// `exp(m)` (Poisson, gamma, Tweedie).
    case exponential
    /// Softmax over the margins (one probability per class).
    case softmax
    /// The index of the largest margin, as a single output (XGBoost `multi:softmax`).
    case argmax
    /// A sigmoid applied to every class margin independently (LightGBM `multiclassova`).
    case sigmoidEach(scale: Double)
    /// `sign(m) * m * m` (LightGBM regression trained with `reg_sqrt`).
    case signedSquare
    /// `log(1 + exp(m))` (LightGBM `cross_entropy_lambda`).
    case softplus
    /// `m > 0 ? 1 : 0` (XGBoost `binary:hinge`).
    case hinge

    /// The number of outputs produced from `marginCount` margins.
    func outputCount(marginCount: Int) -> Int {
        self == .argmax ? 1 : marginCount
    }

    /// Turns `margins[0..<marginCount]` into predictions written to `output`.
    /// `output` may alias `margins` (in-place use).
    @inline(__always)
    func apply(_ margins: UnsafePointer<Double>, _ marginCount: Int, into output: UnsafeMutablePointer<Double>) {
        switch self {
        case .identity:
            if UnsafePointer(output) != margins {
                output.update(from: margins, count: marginCount)
            }
        case .sigmoid(let scale), .sigmoidEach(let scale):
            for k in 0..<marginCount { output[k] = 1 / (1 + exp(-scale * margins[k])) }
        case .exponential:
            for k in 0..<marginCount { output[k] = exp(margins[k]) }
        case .softmax:
            var maximum = -Double.infinity
            for k in 0..<marginCount where margins[k] > maximum { maximum = margins[k] }
            var sum = 0.0
            for k in 0..<marginCount {
                let e = exp(margins[k] - maximum)
                output[k] = e
                sum += e
            }
            for k in 0..<marginCount { output[k] /= sum }
        case .argmax:
            var best = 0
            for k in 1..<max(marginCount, 1) where margins[k] > margins[best] { best = k }
            output[0] = Double(best)
        case .signedSquare:
            for k in 0..<marginCount {
                let m = margins[k]
                output[k] = m < 0 ? -(m * m) : m * m
            }
        case .softplus:
            for k in 0..<marginCount { output[k] = log1p(exp(margins[k])) }
        case .hinge:
            for k in 0..<marginCount { output[k] = margins[k] > 0 ? 1 : 0 }
        }
    }
}
