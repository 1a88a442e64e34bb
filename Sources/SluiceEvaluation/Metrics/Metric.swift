/// A model quality metric computed from labels and scores, by its name in `--require` (`auc`, `logloss`, …).
///
/// Binary metrics (`auc`, `logloss`, `accuracy`, `precision`, `recall`, `f1`) need labels that are 0 or 1 and read
/// the score as the probability of class 1; regression metrics (`rmse`, `mae`, `r2`) take any finite labels.
/// Every metric matches scikit-learn's function of the same purpose (see ``Metrics``).
package enum Metric: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// ROC AUC (`sklearn.metrics.roc_auc_score`); higher is better.
    case auc
    /// Mean binary cross-entropy with clipped probabilities (`log_loss`); lower is better.
    case logloss
    /// Share of rows whose thresholded score equals the label (`accuracy_score`); higher is better.
    case accuracy
    /// TP / (TP + FP) at the threshold (`precision_score`); higher is better.
    case precision
    /// TP / (TP + FN) at the threshold (`recall_score`); higher is better.
    case recall
    /// 2TP / (2TP + FP + FN) at the threshold (`f1_score`); higher is better.
    case f1
    /// Root mean squared error (`root_mean_squared_error`); lower is better.
    case rmse
    /// Mean absolute error (`mean_absolute_error`); lower is better.
    case mae
    /// Coefficient of determination (`r2_score`); higher is better.
    case r2

    package var description: String { rawValue }

    /// Whether the metric needs 0/1 labels.
    package var isBinary: Bool {
        switch self {
        case .auc, .logloss, .accuracy, .precision, .recall, .f1: true
        case .rmse, .mae, .r2: false
        }
    }

    /// Whether a larger value means a better model (for messages; the gate compares as the requirement says).
    package var higherIsBetter: Bool {
        switch self {
        case .logloss, .rmse, .mae: false
        case .auc, .accuracy, .precision, .recall, .f1, .r2: true
        }
    }

    /// The metric of `scores` against `labels`.
    /// - Parameters:
    ///   - labels: The true values, one per row (0 or 1 for binary metrics).
    ///   - scores: The model's predictions, one per row (the probability of class 1 for binary metrics).
    /// - Throws: ``MetricError`` for empty or mismatched input, a non-finite value, a label that is not 0/1 for a
    ///   binary metric, a probability outside [0, 1] for `logloss`, or a single class for `auc`.
    package func evaluate(labels: [Double], scores: [Double]) throws(MetricError) -> Double {
        switch self {
        case .auc: try Metrics.auc(labels: labels, scores: scores)
        case .logloss: try Metrics.logLoss(labels: labels, scores: scores)
        case .accuracy: try Metrics.confusion(labels: labels, scores: scores).accuracy
        case .precision: try Metrics.confusion(labels: labels, scores: scores).precision
        case .recall: try Metrics.confusion(labels: labels, scores: scores).recall
        case .f1: try Metrics.confusion(labels: labels, scores: scores).f1
        case .rmse: try Metrics.rmse(labels: labels, scores: scores)
        case .mae: try Metrics.mae(labels: labels, scores: scores)
        case .r2: try Metrics.r2(labels: labels, scores: scores)
        }
    }
}
