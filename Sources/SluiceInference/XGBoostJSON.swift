import Foundation

/// The parts of XGBoost's JSON model schema (doc/model.schema) that prediction needs.
/// Field names follow the file; unknown fields are ignored.
struct XGBoostJSON: Decodable {
    var learner: Learner

    struct Learner: Decodable {
        var featureNames: [String]?
        var featureTypes: [String]?
        var gradientBooster: GradientBooster
        var learnerModelParam: LearnerModelParam
        var objective: Objective

        enum CodingKeys: String, CodingKey {
            case featureNames = "feature_names"
            case featureTypes = "feature_types"
            case gradientBooster = "gradient_booster"
            case learnerModelParam = "learner_model_param"
            case objective
        }
    }

    struct LearnerModelParam: Decodable {
        var baseScore: String
        var numClass: String
        var numFeature: String
        var numTarget: String?

        enum CodingKeys: String, CodingKey {
            case baseScore = "base_score"
            case numClass = "num_class"
            case numFeature = "num_feature"
            case numTarget = "num_target"
        }
    }

    struct Objective: Decodable {
        var name: String
    }

    /// `gbtree` holds `model` directly; `dart` nests a gbtree under `gbtree` plus `weight_drop`.
    struct GradientBooster: Decodable {
        var name: String
        var model: GBTreeModel?
        var gbtree: NestedGBTree?
        var weightDrop: [Double]?

        enum CodingKeys: String, CodingKey {
            case name, model, gbtree
            case weightDrop = "weight_drop"
        }
    }

    struct NestedGBTree: Decodable {
        var model: GBTreeModel
    }

    struct GBTreeModel: Decodable {
        var treeInfo: [Int]
        var trees: [Tree]

        enum CodingKeys: String, CodingKey {
            case treeInfo = "tree_info"
            case trees
        }
    }

    struct Tree: Decodable {
        var leftChildren: [Int]
        var rightChildren: [Int]
        var splitConditions: [Double]
        var splitIndices: [Int]
        var defaultLeft: FlexibleBools
        var splitType: [Int]?
        var sumHessian: [Double]
        var treeParam: TreeParam
        /// Categorical splits: the categories going right, `categories_sizes[i]` of them from
        /// `categories_segments[i]` for node `categories_nodes[i]`.
        var categories: [Int]?
        var categoriesNodes: [Int]?
        var categoriesSegments: [Int]?
        var categoriesSizes: [Int]?

        enum CodingKeys: String, CodingKey {
            case leftChildren = "left_children"
            case rightChildren = "right_children"
            case splitConditions = "split_conditions"
            case splitIndices = "split_indices"
            case defaultLeft = "default_left"
            case splitType = "split_type"
            case sumHessian = "sum_hessian"
            case treeParam = "tree_param"
            case categories
            case categoriesNodes = "categories_nodes"
            case categoriesSegments = "categories_segments"
            case categoriesSizes = "categories_sizes"
        }
    }

    struct TreeParam: Decodable {
        var numNodes: String
        var sizeLeafVector: String?

        enum CodingKeys: String, CodingKey {
            case numNodes = "num_nodes"
            case sizeLeafVector = "size_leaf_vector"
        }
    }

    /// `default_left` is written as 0/1 integers by current XGBoost and as booleans by some older versions.
    struct FlexibleBools: Decodable {
        var values: [Bool]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let ints = try? container.decode([Int].self) {
                values = ints.map { $0 != 0 }
            } else {
                values = try container.decode([Bool].self)
            }
        }
    }

    /// Decodes the document, turning decoding failures into messages that name the JSON path.
    static func decode(_ data: Data) throws(ModelError) -> XGBoostJSON {
        do {
            return try JSONDecoder().decode(XGBoostJSON.self, from: data)
        } catch let error as DecodingError {
            throw .invalid("xgboost JSON: \(describe(error))")
        } catch {
            throw .invalid("xgboost JSON: \(error)")
        }
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "document" : text
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "\(parent == "document" ? "" : parent + ".")\(key.stringValue) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) has the wrong type, expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null, expected \(typeName(type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return "the file is not valid JSON (truncated or corrupt)"
            }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is [Int].Type, is [Double].Type: return "an array of numbers"
        case is Int.Type, is Double.Type: return "a number"
        case is [String].Type: return "an array of strings"
        default: return "\(type)"
        }
    }
}
