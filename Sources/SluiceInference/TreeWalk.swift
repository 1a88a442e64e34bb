/// Adds one tree's leaf value to every row of a block, walking 8 (then 4, then 1) rows through the tree
/// together so their independent node loads overlap. Shared by the XGBoost and LightGBM batch paths, which
/// differ only in how a node picks its child (`step`) and where the leaf value sits (`leaf`).
///
/// - Parameters:
///   - root: the tree's root node index; `depth`: the steps from the root to every leaf (trees are padded).
///   - rows: `count` rows of `width` values each, row-major.
///   - acc: the sums (Float for XGBoost, which adds margins in float32 as xgboost does), `stride` per row; the leaf value is added at `acc[row * stride + offset]`.
@inline(__always)
func accumulateLeaves<Value, Sum: AdditiveArithmetic>(
    root: Int, depth: Int, rows: UnsafePointer<Value>, width: Int, count: Int,
    into acc: UnsafeMutablePointer<Sum>, stride: Int, offset: Int,
    step: (Int, UnsafePointer<Value>) -> Int, leaf: (Int) -> Sum
) {
    var r = 0
    while r + 8 <= count {
        let x0 = rows + r * width, x1 = x0 + width, x2 = x1 + width, x3 = x2 + width
        let x4 = x3 + width, x5 = x4 + width, x6 = x5 + width, x7 = x6 + width
        var i0 = root, i1 = root, i2 = root, i3 = root
        var i4 = root, i5 = root, i6 = root, i7 = root
        for _ in 0..<depth {
            i0 = step(i0, x0)
            i1 = step(i1, x1)
            i2 = step(i2, x2)
            i3 = step(i3, x3)
            i4 = step(i4, x4)
            i5 = step(i5, x5)
            i6 = step(i6, x6)
            i7 = step(i7, x7)
        }
        acc[r * stride + offset] += leaf(i0)
        acc[(r + 1) * stride + offset] += leaf(i1)
        acc[(r + 2) * stride + offset] += leaf(i2)
        acc[(r + 3) * stride + offset] += leaf(i3)
        acc[(r + 4) * stride + offset] += leaf(i4)
        acc[(r + 5) * stride + offset] += leaf(i5)
        acc[(r + 6) * stride + offset] += leaf(i6)
        acc[(r + 7) * stride + offset] += leaf(i7)
        r += 8
    }
    while r + 4 <= count {
        let x0 = rows + r * width, x1 = x0 + width, x2 = x1 + width, x3 = x2 + width
        var i0 = root, i1 = root, i2 = root, i3 = root
        for _ in 0..<depth {
            i0 = step(i0, x0)
            i1 = step(i1, x1)
            i2 = step(i2, x2)
            i3 = step(i3, x3)
        }
        acc[r * stride + offset] += leaf(i0)
        acc[(r + 1) * stride + offset] += leaf(i1)
        acc[(r + 2) * stride + offset] += leaf(i2)
        acc[(r + 3) * stride + offset] += leaf(i3)
        r += 4
    }
    while r < count {
        var i = root
        let x = rows + r * width
        for _ in 0..<depth { i = step(i, x) }
        acc[r * stride + offset] += leaf(i)
        r += 1
    }
}
