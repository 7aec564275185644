//! Awareness training: what a course's quiz is and how an attempt is scored, who a
//! campaign reaches (its population), and when an assignment falls due. No IO.

use crate::FieldError;
use crate::Role;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

code_enum!(
    /// What a course is for: the twice-a-year rule counts `awareness` courses; a person who
    /// clicks in a drill is enrolled in a `remedial` one.
    CourseKind, "kind" {
        Awareness => "awareness",
        Remedial => "remedial",
        Specialist => "specialist",
    }
);

code_enum!(
    /// Where an assignment stands. Overdue is not a state: it is `assigned` after the due
    /// date. `dropped`: the person left (deactivated) before they finished.
    AssignmentStatus, "status" {
        Assigned => "assigned",
        Completed => "completed",
        Dropped => "dropped",
    }
);

code_enum!(
    /// How a completion came to be known: taken here (read, and the quiz passed when the
    /// course has one), a row of a learning system's CSV export, or an xAPI statement a
    /// learning system posted.
    CompletionSource, "source" {
        Course => "course",
        Csv => "csv",
        Xapi => "xapi",
    }
);

/// One question of a quiz in both languages. Several choices may be correct: the answer
/// counts when exactly the correct ones are chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Question {
    pub prompt_ja: String,
    pub prompt_en: String,
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Choice {
    pub text_ja: String,
    pub text_en: String,
    pub correct: bool,
}

/// The longest quiz and the most choices a question may have.
pub const MAX_QUESTIONS: usize = 50;
pub const MAX_CHOICES: usize = 8;

/// Checks a quiz as written: every question has a prompt in at least one language, two to
/// eight choices each with a text, and at least one correct choice. Errors name the
/// question (`quiz.3`, counted from 1) and what is wrong.
pub fn check_quiz(quiz: &[Question]) -> Vec<FieldError> {
    let mut errors = vec![];
    if quiz.len() > MAX_QUESTIONS {
        errors.push(FieldError::coded("quiz", "quiz-too-long", format!("at most {MAX_QUESTIONS} questions")).arg("max", MAX_QUESTIONS.to_string()));
    }
    for (i, q) in quiz.iter().enumerate() {
        let field = format!("quiz.{}", i + 1);
        let n = (i + 1).to_string();
        if q.prompt_ja.trim().is_empty() && q.prompt_en.trim().is_empty() {
            errors.push(FieldError::coded(&field, "quiz-no-prompt", format!("question {n} has no text")).arg("n", n.clone()));
        }
        if q.choices.len() < 2 || q.choices.len() > MAX_CHOICES {
            errors.push(
                FieldError::coded(&field, "quiz-choices", format!("question {n} needs 2 to {MAX_CHOICES} choices"))
                    .arg("n", n.clone())
                    .arg("max", MAX_CHOICES.to_string()),
            );
        }
        if q.choices.iter().any(|c| c.text_ja.trim().is_empty() && c.text_en.trim().is_empty()) {
            errors.push(FieldError::coded(&field, "quiz-empty-choice", format!("question {n} has a choice without text")).arg("n", n.clone()));
        }
        if !q.choices.iter().any(|c| c.correct) {
            errors.push(FieldError::coded(&field, "quiz-no-correct", format!("question {n} has no correct choice")).arg("n", n));
        }
    }
    errors
}

/// Reads a quiz written as text, one line each: `?` starts a question, `*` a correct
/// choice, `-` a wrong one; ` / ` separates the Japanese from the English. Blank lines and
/// lines starting with `#` are skipped. An error names the line (`quiz`, line n).
///
/// ```text
/// ? 不審なメールを受け取ったら / You receive a suspicious e-mail
/// * 報告ボタンで報告する / Report it with the report button
/// - 添付ファイルを開いて確かめる / Open the attachment to see
/// ```
pub fn parse_quiz_text(text: &str) -> Result<Vec<Question>, Vec<FieldError>> {
    let mut quiz: Vec<Question> = vec![];
    let mut errors = vec![];
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let n = (i + 1).to_string();
        let (mark, rest) = line.split_at(line.chars().next().map_or(0, char::len_utf8));
        let (ja, en) = match rest.split_once(" / ") {
            Some((ja, en)) => (ja.trim().to_owned(), en.trim().to_owned()),
            None => (rest.trim().to_owned(), String::new()),
        };
        match mark {
            "?" | "？" => quiz.push(Question { prompt_ja: ja, prompt_en: en, choices: vec![] }),
            "*" | "-" | "＊" | "－" => match quiz.last_mut() {
                Some(q) => q.choices.push(Choice { text_ja: ja, text_en: en, correct: matches!(mark, "*" | "＊") }),
                None => errors.push(FieldError::coded("quiz", "quiz-choice-first", format!("line {n}: a choice before any question")).arg("line", n)),
            },
            _ => errors.push(FieldError::coded("quiz", "quiz-line", format!("line {n}: starts with neither ?, * nor -")).arg("line", n)),
        }
    }
    // The checks per question name the question; as text, name the line it starts on.
    let starts: Vec<usize> = text.lines().enumerate().filter(|(_, l)| matches!(l.trim_start().chars().next(), Some('?' | '？'))).map(|(i, _)| i + 1).collect();
    for e in check_quiz(&quiz) {
        let q: Option<usize> = e.field.strip_prefix("quiz.").and_then(|n| n.parse().ok());
        let line = q.and_then(|q| starts.get(q - 1)).map(|l| l.to_string()).unwrap_or_default();
        let message = format!("line {line}: {}", e.message);
        errors.push(FieldError { field: "quiz".into(), message, ..e }.arg("line", line));
    }
    if errors.is_empty() { Ok(quiz) } else { Err(errors) }
}

/// A quiz written back as the text `parse_quiz_text` reads.
pub fn quiz_text(quiz: &[Question]) -> String {
    let pair = |ja: &str, en: &str| if en.is_empty() { ja.to_owned() } else { format!("{ja} / {en}") };
    let mut out = String::new();
    for (i, q) in quiz.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("? {}\n", pair(&q.prompt_ja, &q.prompt_en)));
        for c in &q.choices {
            out.push_str(&format!("{} {}\n", if c.correct { '*' } else { '-' }, pair(&c.text_ja, &c.text_en)));
        }
    }
    out
}

/// An attempt's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Score {
    pub correct: u32,
    pub total: u32,
    /// Whole percent, rounded down (so 2 of 3 is 66, never a pass at a mark of 67).
    pub percent: u32,
    pub passed: bool,
}

/// Scores `answers` (for each question, the indexes of the chosen choices) against `quiz`
/// with a pass mark in percent. A question left unanswered counts as wrong; an index that
/// names no choice is refused, naming the question.
pub fn score(quiz: &[Question], answers: &[Vec<usize>], pass_mark: u32) -> Result<Score, FieldError> {
    if answers.len() > quiz.len() {
        return Err(FieldError::coded("answers", "quiz-extra-answers", "more answers than questions"));
    }
    let mut correct: u32 = 0;
    for (i, q) in quiz.iter().enumerate() {
        let chosen = answers.get(i).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(bad) = chosen.iter().find(|&&c| c >= q.choices.len()) {
            let n = (i + 1).to_string();
            return Err(FieldError::coded(format!("quiz.{n}"), "quiz-no-such-choice", format!("question {n} has no choice {}", bad + 1)).arg("n", n));
        }
        let mut chosen: Vec<usize> = chosen.to_vec();
        chosen.sort_unstable();
        chosen.dedup();
        let right: Vec<usize> = q.choices.iter().enumerate().filter(|(_, c)| c.correct).map(|(i, _)| i).collect();
        if !chosen.is_empty() && chosen == right {
            correct += 1;
        }
    }
    let total = quiz.len() as u32;
    let percent = (correct * 100).checked_div(total).unwrap_or(100);
    Ok(Score { correct, total, percent, passed: percent >= pass_mark })
}

/// Who a campaign reaches: active people who match every selector given (a selector left
/// empty matches everyone); within a selector, any of its values. No selector at all is
/// everyone in the campaign's scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Population {
    #[serde(default)]
    pub companies: Vec<String>,
    #[serde(default)]
    pub departments: Vec<String>,
    /// People whose account holds one of these roles.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Only people who joined within this many days of the day they are enrolled.
    #[serde(default)]
    pub joined_within_days: Option<u32>,
}

/// What the population rules need to know of a person.
pub struct Candidate<'a> {
    pub company_id: &'a str,
    pub department_id: Option<&'a str>,
    pub active: bool,
    pub joined_on: Option<Date>,
    pub roles: &'a [Role],
}

impl Population {
    pub fn is_everyone(&self) -> bool {
        self.companies.is_empty() && self.departments.is_empty() && self.roles.is_empty() && self.joined_within_days.is_none()
    }

    /// Whether `p` belongs on `today`. A joiner rule needs a known joining date.
    pub fn includes(&self, p: &Candidate<'_>, today: Date) -> bool {
        if !p.active {
            return false;
        }
        if !self.companies.is_empty() && !self.companies.iter().any(|c| c == p.company_id) {
            return false;
        }
        if !self.departments.is_empty() && !p.department_id.is_some_and(|d| self.departments.iter().any(|x| x == d)) {
            return false;
        }
        if !self.roles.is_empty() && !p.roles.iter().any(|r| self.roles.contains(r)) {
            return false;
        }
        if let Some(days) = self.joined_within_days {
            let Some(joined) = p.joined_on else { return false };
            let Ok(since) = today.checked_sub(jiff::Span::new().days(i64::from(days))) else { return false };
            if joined < since || joined > today {
                return false;
            }
        }
        true
    }
}

/// The due date of an assignment made on `enrolled`: the campaign's, unless the person
/// came after the campaign began, who gets `grace_days` from the day they were enrolled
/// when that is later.
pub fn due_for(campaign_due: Date, campaign_start: Date, enrolled: Date, grace_days: u32) -> Date {
    if enrolled <= campaign_start {
        return campaign_due;
    }
    let graced = enrolled.checked_add(jiff::Span::new().days(i64::from(grace_days))).unwrap_or(enrolled);
    graced.max(campaign_due)
}

/// A half of the Japanese fiscal year (April–September, October–March), the period of the
/// twice-a-year rule: every active person completes an awareness course in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FiscalHalf {
    /// The fiscal year, by the calendar year it starts in.
    pub year: i16,
    /// 1 (April–September) or 2 (October–March).
    pub half: u8,
}

/// Who joined this few days before a half's last day is not yet held to its rule: the
/// finding would name someone who had no fair chance.
pub const JOINER_GRACE_DAYS: i64 = 30;

impl FiscalHalf {
    pub fn of(d: Date) -> Self {
        let (year, half) = crate::incidents::drills::half_of(d);
        Self { year, half }
    }

    pub fn first_day(self) -> Date {
        if self.half == 1 { jiff::civil::date(self.year, 4, 1) } else { jiff::civil::date(self.year, 10, 1) }
    }

    pub fn last_day(self) -> Date {
        if self.half == 1 { jiff::civil::date(self.year, 9, 30) } else { jiff::civil::date(self.year + 1, 3, 31) }
    }

    pub fn previous(self) -> Self {
        if self.half == 2 { Self { year: self.year, half: 1 } } else { Self { year: self.year - 1, half: 2 } }
    }

    pub fn contains(self, d: Date) -> bool {
        self.first_day() <= d && d <= self.last_day()
    }

    /// `2026-H1`, the key the closed halves and their findings are kept by.
    pub fn key(self) -> String {
        format!("{}-H{}", self.year, self.half)
    }

    pub fn parse(s: &str) -> Option<Self> {
        let (y, h) = s.split_once("-H")?;
        let year: i16 = y.parse().ok()?;
        let half: u8 = h.parse().ok()?;
        ((1..=2).contains(&half) && (1990..=2200).contains(&year)).then_some(Self { year, half })
    }

    /// Whether a person who joined on `joined_on` is held to this half's rule (an unknown
    /// date counts: the register says nothing to excuse them).
    pub fn holds(self, joined_on: Option<Date>) -> bool {
        let Some(j) = joined_on else { return true };
        let cutoff = self.last_day().checked_sub(jiff::Span::new().days(JOINER_GRACE_DAYS)).unwrap_or(self.first_day());
        j <= cutoff
    }
}

/// Share of `trained` in `people`, in whole percent rounded down (0 for nobody).
pub fn share(trained: u64, people: u64) -> u32 {
    (trained.min(people) * 100).checked_div(people).map_or(0, |s| u32::try_from(s).unwrap_or(100))
}

code_enum!(
    /// The cmi5 verbs a learning system posts that count here.
    LmsVerb, "verb" {
        Completed => "completed",
        Passed => "passed",
        Failed => "failed",
    }
);

impl LmsVerb {
    /// The verb of an xAPI verb id (`http://adlnet.gov/expapi/verbs/passed`).
    pub fn of_iri(iri: &str) -> Option<Self> {
        let last = iri.trim_end_matches('/').rsplit('/').next()?;
        if iri.starts_with("http://adlnet.gov/expapi/verbs/") { Self::parse(last).ok() } else { None }
    }

    /// Whether a statement with this verb completes a course: one with a quiz is completed
    /// by passing it (cmi5's "passed"), one without by finishing it or passing.
    pub fn completes(self, has_quiz: bool) -> bool {
        match self {
            Self::Passed => true,
            Self::Completed => !has_quiz,
            Self::Failed => false,
        }
    }
}

/// The course code an xAPI activity id names: its last path segment
/// (`https://lms.example.jp/activities/SEC-AWARE` → `SEC-AWARE`), or the id itself.
pub fn activity_code(iri: &str) -> &str {
    let t = iri.trim().trim_end_matches('/');
    let t = t.split(['?', '#']).next().unwrap_or(t);
    t.rsplit('/').next().unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(correct: &[bool]) -> Question {
        Question {
            prompt_ja: "問".into(),
            prompt_en: "Q".into(),
            choices: correct.iter().map(|&c| Choice { text_ja: "選".into(), text_en: "C".into(), correct: c }).collect(),
        }
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn scores_exact_choice_sets_and_rounds_down() {
        let quiz = vec![q(&[true, false, false]), q(&[false, true, true]), q(&[false, false, true])];
        let s = score(&quiz, &[vec![0], vec![2, 1], vec![0]], 67).unwrap();
        assert_eq!((s.correct, s.total, s.percent, s.passed), (2, 3, 66, false));
        let s = score(&quiz, &[vec![0], vec![1, 2, 2], vec![2]], 100).unwrap();
        assert_eq!((s.correct, s.percent, s.passed), (3, 100, true));
        // A subset of the correct choices, or every choice, is wrong.
        let s = score(&quiz, &[vec![0, 1, 2], vec![1]], 0).unwrap();
        assert_eq!(s.correct, 0);
        assert!(s.passed, "a mark of 0 passes anyone");
        // Unanswered questions count as wrong.
        assert_eq!(score(&quiz, &[vec![0]], 50).unwrap().correct, 1);
    }

    #[test]
    fn refuses_a_choice_that_does_not_exist() {
        let quiz = vec![q(&[true, false])];
        let e = score(&quiz, &[vec![2]], 50).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("quiz.1", "quiz-no-such-choice"));
        assert_eq!(score(&quiz, &[vec![0], vec![0]], 50).unwrap_err().code, "quiz-extra-answers");
    }

    #[test]
    fn checks_a_quiz_as_written() {
        assert!(check_quiz(&[q(&[true, false])]).is_empty());
        let errors = check_quiz(&[q(&[false, false]), q(&[true])]);
        let codes: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(codes, [("quiz.1", "quiz-no-correct"), ("quiz.2", "quiz-choices")]);
    }

    #[test]
    fn reads_a_quiz_written_as_text_and_names_the_line() {
        let text = "# 第1問\n? 不審なメールは / A suspicious mail\n* 報告する / Report it\n- 開く / Open it\n\n? 二問目\n- いいえ\n* はい\n";
        let quiz = parse_quiz_text(text).unwrap();
        assert_eq!(quiz.len(), 2);
        assert_eq!((quiz[0].prompt_ja.as_str(), quiz[0].prompt_en.as_str()), ("不審なメールは", "A suspicious mail"));
        assert!(quiz[0].choices[0].correct && !quiz[0].choices[1].correct && quiz[1].choices[1].correct);
        assert_eq!(parse_quiz_text(&quiz_text(&quiz)).unwrap(), quiz, "written back, it reads the same");
        let e = parse_quiz_text("* 先に選択肢\n? 問\n- a\n- b\n").unwrap_err();
        let got: Vec<_> = e.iter().map(|e| (e.code, e.args.iter().find(|a| a.0 == "line").map(|a| a.1.clone()))).collect();
        assert_eq!(got, [("quiz-choice-first", Some("1".into())), ("quiz-no-correct", Some("2".into()))]);
        assert_eq!(parse_quiz_text("問題\n").unwrap_err()[0].code, "quiz-line");
    }

    #[test]
    fn population_selectors_combine() {
        let roles = [Role::Employee];
        let p = |company: &'static str, dept: Option<&'static str>, active: bool, joined: Option<&str>| Candidate {
            company_id: company,
            department_id: dept,
            active,
            joined_on: joined.map(d),
            roles: &roles,
        };
        let today = d("2026-12-06");
        let everyone = Population::default();
        assert!(everyone.is_everyone());
        assert!(everyone.includes(&p("A", None, true, None), today));
        assert!(!everyone.includes(&p("A", None, false, None), today), "leavers are never enrolled");
        let sales_of_a = Population { companies: vec!["A".into()], departments: vec!["S".into()], ..Default::default() };
        assert!(sales_of_a.includes(&p("A", Some("S"), true, None), today));
        assert!(!sales_of_a.includes(&p("A", Some("T"), true, None), today));
        assert!(!sales_of_a.includes(&p("B", Some("S"), true, None), today));
        let joiners = Population { joined_within_days: Some(30), ..Default::default() };
        assert!(joiners.includes(&p("A", None, true, Some("2026-11-06")), today));
        assert!(!joiners.includes(&p("A", None, true, Some("2026-11-05")), today));
        assert!(!joiners.includes(&p("A", None, true, None), today), "no joining date, not a joiner");
        let admins = Population { roles: vec![Role::CompanySecurityAdmin], ..Default::default() };
        assert!(!admins.includes(&p("A", None, true, None), today));
    }

    #[test]
    fn joiners_get_their_grace() {
        let (start, due) = (d("2026-10-01"), d("2026-10-31"));
        assert_eq!(due_for(due, start, d("2026-10-01"), 14), due);
        assert_eq!(due_for(due, start, d("2026-10-10"), 14), due, "the campaign's date is later");
        assert_eq!(due_for(due, start, d("2026-10-25"), 14), d("2026-11-08"));
    }
    #[test]
    fn fiscal_halves_have_their_days_and_keys() {
        let h = FiscalHalf::of(d("2026-12-07"));
        assert_eq!(h, FiscalHalf { year: 2026, half: 2 });
        assert_eq!(h.first_day(), d("2026-10-01"));
        assert_eq!(h.last_day(), d("2027-03-31"));
        assert_eq!(h.previous(), FiscalHalf { year: 2026, half: 1 });
        assert_eq!(h.previous().previous(), FiscalHalf { year: 2025, half: 2 });
        assert_eq!(h.key(), "2026-H2");
        assert_eq!(FiscalHalf::parse("2026-H2"), Some(h));
        assert_eq!(FiscalHalf::parse("2026-H3"), None);
        assert_eq!(FiscalHalf::parse("H1"), None);
        assert!(h.contains(d("2027-03-31")) && !h.contains(d("2027-04-01")));
        // A joiner in the last 30 days is not yet held to the rule; unknown dates are.
        assert!(h.holds(None));
        assert!(h.holds(Some(d("2027-03-01"))));
        assert!(!h.holds(Some(d("2027-03-02"))));
        assert_eq!(share(2, 3), 66);
        assert_eq!(share(0, 0), 0);
        assert_eq!(share(5, 5), 100);
    }

    #[test]
    fn lms_verbs_and_activities() {
        assert_eq!(LmsVerb::of_iri("http://adlnet.gov/expapi/verbs/passed"), Some(LmsVerb::Passed));
        assert_eq!(LmsVerb::of_iri("http://adlnet.gov/expapi/verbs/completed/"), Some(LmsVerb::Completed));
        assert_eq!(LmsVerb::of_iri("http://adlnet.gov/expapi/verbs/launched"), None);
        assert_eq!(LmsVerb::of_iri("https://example.jp/verbs/passed"), None);
        assert!(LmsVerb::Completed.completes(false) && !LmsVerb::Completed.completes(true));
        assert!(LmsVerb::Passed.completes(true) && !LmsVerb::Failed.completes(false));
        assert_eq!(activity_code("https://lms.example.jp/activities/SEC-AWARE/"), "SEC-AWARE");
        assert_eq!(activity_code("https://lms.example.jp/a/SEC-AWARE?x=1"), "SEC-AWARE");
        assert_eq!(activity_code("SEC-AWARE"), "SEC-AWARE");
    }
}
