/// The confusion matrix of binary labels against thresholded scores, and the metrics read from it.
///
/// A division by zero (no predicted positives for precision, no actual positives for recall, neither for F1) gives
/// 0, as scikit-learn's default `zero_division="warn"` does (it returns 0.0 and warns).
package struct ConfusionCounts: Sendable, Equatable {
    /// Label 1, predicted 1.
    package var truePositives: Int
    /// Label 0, predicted 1.
    package var falsePositives: Int
    /// Label 0, predicted 0.
    package var trueNegatives: Int
    /// Label 1, predicted 0.
    package var falseNegatives: Int

    /// Creates the counts.
    package init(truePositives: Int, falsePositives: Int, trueNegatives: Int, falseNegatives: Int) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.trueNegatives = trueNegatives
        self.falseNegatives = falseNegatives
    }

    /// Rows counted.
    package var total: Int { truePositives + falsePositives + trueNegatives + falseNegatives }

    /// (TP + TN) / rows.
    package var accuracy: Double {
        total == 0 ? 0 : Double(truePositives + trueNegatives) / Double(total)
    }

    /// TP / (TP + FP), 0 when nothing was predicted positive.
    package var precision: Double {
        let denominator = truePositives + falsePositives
        return denominator == 0 ? 0 : Double(truePositives) / Double(denominator)
    }

    /// TP / (TP + FN), 0 when no label is positive.
    package var recall: Double {
        let denominator = truePositives + falseNegatives
        return denominator == 0 ? 0 : Double(truePositives) / Double(denominator)
    }

    /// 2TP / (2TP + FP + FN) (scikit-learn's form, equal to the harmonic mean of precision and recall), 0 when
    /// there are no positives at all.
    package var f1: Double {
        let denominator = 2 * truePositives + falsePositives + falseNegatives
        return denominator == 0 ? 0 : Double(2 * truePositives) / Double(denominator)
    }
}
