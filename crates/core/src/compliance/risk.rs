//! Risk scoring: a likelihood × impact matrix whose size and level meanings the group
//! sets (5 × 5 by default), the score of a cell, its rating band, and the rule that a
//! residual risk is never above the inherent one unless someone says why.

use crate::FieldError;
use serde::{Deserialize, Serialize};

code_enum!(
    /// How a risk is dealt with.
    Treatment, "treatment" {
        Mitigate => "mitigate",
        Accept => "accept",
        Transfer => "transfer",
        Avoid => "avoid",
    }
);

code_enum!(
    /// Where a risk stands: identified, being treated, accepted by its owner, or closed.
    RiskStatus, "status" {
        Open => "open",
        Treating => "treating",
        Accepted => "accepted",
        Closed => "closed",
    }
);

code_enum!(
    /// The band a score falls in.
    Rating, "rating" {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

/// One step of an axis with what it means, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Level {
    pub label: String,
    pub label_ja: String,
    pub meaning: String,
    pub meaning_ja: String,
}

/// The lowest score of each band above "low"; scores below `medium` are low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bands {
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Matrix {
    /// From rare (1) upwards.
    pub likelihood: Vec<Level>,
    /// From negligible (1) upwards.
    pub impact: Vec<Level>,
    pub bands: Bands,
}

fn level(label: &str, label_ja: &str, meaning: &str, meaning_ja: &str) -> Level {
    Level { label: label.into(), label_ja: label_ja.into(), meaning: meaning.into(), meaning_ja: meaning_ja.into() }
}

impl Default for Matrix {
    fn default() -> Self {
        Matrix {
            likelihood: vec![
                level("Rare", "まれ", "Not expected within ten years", "10年に1度も起きないと見込まれる"),
                level("Unlikely", "起こりにくい", "Could happen once in three to ten years", "3〜10年に1度起こりうる"),
                level("Possible", "起こりうる", "Could happen once in one to three years", "1〜3年に1度起こりうる"),
                level("Likely", "起こりやすい", "Expected about once a year", "年に1度程度起こると見込まれる"),
                level("Almost certain", "ほぼ確実", "Expected several times a year", "年に数回起こると見込まれる"),
            ],
            impact: vec![
                level(
                    "Negligible",
                    "軽微",
                    "No customer or personal information affected; no service disruption",
                    "顧客情報・個人情報への影響なし、サービス停止なし",
                ),
                level("Minor", "小", "Internal information exposed within the group; disruption under an hour", "社内情報がグループ内で露出、1時間未満の停止"),
                level(
                    "Moderate",
                    "中",
                    "Personal information of fewer than 1,000 people, or disruption of flight-related systems under a day",
                    "1,000人未満の個人情報、または運航関連システムの1日未満の停止",
                ),
                level(
                    "Major",
                    "大",
                    "Customer information of 1,000 or more people, a report to the regulator, or disruption over a day",
                    "1,000人以上の顧客情報、当局への報告、または1日を超える停止",
                ),
                level(
                    "Severe",
                    "重大",
                    "Mass leak of customer information, flight safety at stake, or lasting damage to trust",
                    "顧客情報の大量漏えい、運航の安全への影響、または信用の長期的な毀損",
                ),
            ],
            bands: Bands { medium: 5, high: 10, critical: 17 },
        }
    }
}

impl Matrix {
    pub fn max_score(&self) -> u32 {
        (self.likelihood.len() * self.impact.len()) as u32
    }

    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = vec![];
        for (field, axis) in [("likelihood", &self.likelihood), ("impact", &self.impact)] {
            if !(2..=10).contains(&axis.len()) {
                errors.push(FieldError::coded(field, "matrix-size", "must have between 2 and 10 levels").arg("min", "2").arg("max", "10"));
            }
            for (i, l) in axis.iter().enumerate() {
                if l.label.trim().is_empty() || l.label_ja.trim().is_empty() {
                    errors.push(FieldError::coded(format!("{field}[{}].label", i + 1), "required", "is required"));
                }
                if l.label.chars().count() > 60 || l.label_ja.chars().count() > 60 || l.meaning.chars().count() > 500 || l.meaning_ja.chars().count() > 500 {
                    errors.push(FieldError::coded(format!("{field}[{}]", i + 1), "too-long", "is too long").arg("max", "500"));
                }
            }
        }
        let b = self.bands;
        if !(1 < b.medium && b.medium < b.high && b.high < b.critical && b.critical <= self.max_score().max(3)) {
            errors.push(
                FieldError::coded("bands", "matrix-bands", "band thresholds must rise: 1 < medium < high < critical ≤ the highest score")
                    .arg("max", self.max_score().to_string()),
            );
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// The score of a cell; the levels count from 1.
    pub fn score(&self, field: &str, likelihood: i32, impact: i32) -> Result<u32, FieldError> {
        let in_range = |v: i32, n: usize| v >= 1 && (v as usize) <= n;
        if !in_range(likelihood, self.likelihood.len()) {
            return Err(FieldError::coded(format!("{field}_likelihood"), "between", "is outside the matrix")
                .arg("min", "1")
                .arg("max", self.likelihood.len().to_string()));
        }
        if !in_range(impact, self.impact.len()) {
            return Err(FieldError::coded(format!("{field}_impact"), "between", "is outside the matrix")
                .arg("min", "1")
                .arg("max", self.impact.len().to_string()));
        }
        Ok(likelihood as u32 * impact as u32)
    }

    pub fn rating(&self, score: u32) -> Rating {
        let b = self.bands;
        if score >= b.critical {
            Rating::Critical
        } else if score >= b.high {
            Rating::High
        } else if score >= b.medium {
            Rating::Medium
        } else {
            Rating::Low
        }
    }
}

/// A residual score above the inherent one means the treatment made things worse, which
/// is either a mistake or something to explain: it needs a reason.
pub fn check_residual(inherent: u32, residual: u32, reason: &str) -> Result<(), FieldError> {
    if residual > inherent && reason.trim().is_empty() {
        Err(FieldError::coded("residual_reason", "residual-above", "the residual risk is above the inherent risk: say why"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_default_matrix_is_valid_and_banded() {
        let m = Matrix::default();
        m.validate().unwrap();
        assert_eq!(m.max_score(), 25);
        assert_eq!(m.rating(m.score("inherent", 1, 1).unwrap()), Rating::Low);
        assert_eq!(m.rating(m.score("inherent", 5, 5).unwrap()), Rating::Critical);
        assert_eq!(m.rating(10), Rating::High);
        let e = m.score("residual", 6, 1).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("residual_likelihood", "between"));
        assert_eq!(m.score("inherent", 1, 0).unwrap_err().field, "inherent_impact");
    }

    #[test]
    fn bad_matrices_are_refused_with_the_field() {
        let mut m = Matrix::default();
        m.likelihood.truncate(1);
        m.impact[2].label_ja.clear();
        m.bands = Bands { medium: 5, high: 4, critical: 30 };
        let e = m.validate().unwrap_err();
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["likelihood", "impact[3].label", "bands"]);
    }

    #[test]
    fn residual_above_inherent_needs_a_reason() {
        assert!(check_residual(10, 12, "").is_err());
        assert!(check_residual(10, 12, "new threat after treatment").is_ok());
        assert!(check_residual(10, 10, "").is_ok());
    }

    fn matrices() -> impl Strategy<Value = Matrix> {
        (2usize..=10, 2usize..=10).prop_flat_map(|(l, i)| {
            let max = (l * i) as u32;
            (Just(l), Just(i), 2u32..=max.saturating_sub(2).max(2)).prop_map(move |(l, i, medium)| {
                let lv = |n: usize| (0..n).map(|k| level(&format!("L{k}"), "水準", "", "")).collect::<Vec<_>>();
                let high = (medium + 1).min(max - 1).max(medium + 1);
                Matrix { likelihood: lv(l), impact: lv(i), bands: Bands { medium, high, critical: (high + 1).min(max) } }
            })
        })
    }

    proptest! {
        /// Raising likelihood or impact never lowers the score or the rating.
        #[test]
        fn scoring_is_monotonic(m in matrices(), l in 1i32..=10, i in 1i32..=10) {
            prop_assume!(m.validate().is_ok());
            let (nl, ni) = (m.likelihood.len() as i32, m.impact.len() as i32);
            prop_assume!(l <= nl && i <= ni);
            let s = m.score("x", l, i).unwrap();
            if l < nl {
                let up = m.score("x", l + 1, i).unwrap();
                prop_assert!(up > s);
                prop_assert!(m.rating(up) >= m.rating(s));
            }
            if i < ni {
                let up = m.score("x", l, i + 1).unwrap();
                prop_assert!(up > s);
                prop_assert!(m.rating(up) >= m.rating(s));
            }
            prop_assert!(s >= 1 && s <= m.max_score());
        }

        /// Without a reason the residual score is never above the inherent one.
        #[test]
        fn residual_never_above_inherent_unflagged(a in 1u32..=100, b in 1u32..=100) {
            prop_assert_eq!(check_residual(a, b, "").is_ok(), b <= a);
            prop_assert!(check_residual(a, b, "explained").is_ok());
        }
    }
}
