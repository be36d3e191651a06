//! Decisions from class scores, shared by every readout: the unique winner of a row, and the
//! step from which on a running prediction no longer changes.

/// The unique largest entry's index, `None` on a tie.
pub fn unique_argmax(row: &[f64]) -> Option<usize> {
    let (mut best, mut idx, mut tie) = (f64::NEG_INFINITY, 0, false);
    for (i, v) in row.iter().enumerate() {
        if *v > best {
            (best, idx, tie) = (*v, i, false);
        } else if *v == best {
            tie = true;
        }
    }
    (!tie && best.is_finite()).then_some(idx)
}

/// Per sample: the prediction after the last step (`None` on a tie) and the first step from
/// which on the running prediction never changes again (`None` without a final prediction).
///
/// # Shapes
/// `running`: row-major `[steps, batch, classes]`.
pub fn decisions(
    running: &[f64],
    steps: usize,
    batch: usize,
    classes: usize,
) -> Vec<(Option<usize>, Option<usize>)> {
    let row = |k: usize, b: usize| {
        let o = (k * batch + b) * classes;
        unique_argmax(&running[o..o + classes])
    };
    (0..batch)
        .map(|b| {
            let last = row(steps - 1, b);
            let Some(p) = last else { return (None, None) };
            let mut from = steps - 1;
            while from > 0 && row(from - 1, b) == Some(p) {
                from -= 1;
            }
            (Some(p), Some(from))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_and_decisions() {
        assert_eq!(unique_argmax(&[0.1, 0.3, 0.2]), Some(1));
        assert_eq!(unique_argmax(&[0.3, 0.3, 0.2]), None);
        // 3 steps, 2 samples, 2 classes. Sample 0: class 1 leads from step 1 on.
        // Sample 1: tie at the end → no prediction.
        let running = [
            1.0, 0.0, 0.0, 0.0, //
            1.0, 2.0, 1.0, 1.0, //
            1.0, 3.0, 2.0, 2.0,
        ];
        assert_eq!(decisions(&running, 3, 2, 2), [(Some(1), Some(1)), (None, None)]);
    }
}
