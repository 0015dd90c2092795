//! Triples: subject–relation–object facts read off one sentence's
//! dependency tree (Universal Dependencies v2), in the spirit of ClausIE and
//! PredPatt.
//!
//! Every verb (and every nominal or adjective with a copula) heads a clause.
//! Its subject is its `nsubj`/`csubj`, or, when it has none, the subject it
//! shares: of the verb it is coordinated with (`conj`), of the verb that
//! controls it (`xcomp`), the noun a relative or participle clause modifies
//! (`acl:relcl`, `acl`), or the main clause's subject (`advcl`). Relative
//! pronouns stand for their antecedent.
//!
//! The relation is the verb with its auxiliaries, negation and particle, an
//! open complement without a subject of its own ("plans to build"), and the
//! preposition of the first oblique when there is no direct object ("is
//! located in"). The object is the direct object, or that oblique, or a
//! clausal complement. Further obliques, indirect objects and clausal
//! complements become extra [`arguments`](WordTriple::arguments). Coordinated
//! subjects and objects give one triple each; appositions give an extra
//! "is" triple.
//!
//! The score of a triple multiplies a prior for the way it was built (a
//! subject read off the clause itself beats one inherited from another
//! clause) by the parser's confidence in the arcs it rests on.

use std::ops::Range;

/// One word of a parsed sentence, as the rules read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParsedWord<'a> {
    /// The word as written.
    pub text: &'a str,
    /// Universal part-of-speech tag.
    pub upos: &'a str,
    /// Head, 1-based within the sentence; 0 = the root (as in CoNLL-U).
    pub head: usize,
    /// Universal dependency relation, with its subtype (`nsubj:pass`).
    pub deprel: &'a str,
    /// The parser's probability for this word's head and relation, in [0, 1].
    pub confidence: f32,
}

/// A triple over the word indices (0-based) of one sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct WordTriple {
    /// Contiguous words of the subject.
    pub subject: Range<usize>,
    /// Words of the relation, ascending; they may leave gaps ("turn … off").
    /// Empty when the relation is implied (an apposition's "is").
    pub relation: Vec<usize>,
    /// The relation as a phrase: its words joined by spaces, or the implied verb.
    pub label: String,
    /// Contiguous words of the object; `None` for a clause without one ("the plant closed").
    pub object: Option<Range<usize>>,
    /// Further arguments (indirect objects, obliques, clausal complements), in sentence order.
    pub arguments: Vec<Range<usize>>,
    /// Confidence in [0, 1].
    pub score: f32,
}

/// Words that negate the verb they modify.
const NEGATIONS: [&str; 5] = ["not", "n't", "never", "no", "nt"];
/// Relative pronouns: inside a relative clause they stand for the antecedent.
const RELATIVE_PRONOUNS: [&str; 5] = ["who", "whom", "which", "that", "whose"];
/// Relations that belong to the clause, not to a nominal inside it.
const CLAUSE_LEVEL: [&str; 21] = [
    "nsubj",
    "csubj",
    "expl",
    "cop",
    "aux",
    "mark",
    "punct",
    "cc",
    "conj",
    "advcl",
    "parataxis",
    "obl",
    "advmod",
    "ccomp",
    "xcomp",
    "discourse",
    "vocative",
    "iobj",
    "obj",
    "list",
    "orphan",
];
/// Most alternatives a coordinated subject or object expands into.
const MAX_CONJUNCTS: usize = 6;

/// Priors by construction, before the parser's confidence.
mod prior {
    pub const DIRECT: f32 = 1.0;
    pub const INHERITED_SUBJECT: f32 = 0.85;
    pub const RELATIVE: f32 = 0.9;
    pub const NO_OBJECT: f32 = 0.35;
    pub const APPOSITION: f32 = 0.5;
    pub const COORDINATED: f32 = 0.95;
    pub const ACTIVE_VOICE: f32 = 0.3;
    pub const POSSESSIVE: f32 = 0.3;
}

/// The triples of one sentence.
///
/// Malformed trees (a head past the sentence, cycles) are read as far as
/// they are well formed; nothing panics.
pub fn triples(words: &[ParsedWord<'_>]) -> Vec<WordTriple> {
    let tree = Tree::new(words);
    let mut out = Vec::new();
    for p in 0..words.len() {
        if tree.is_predicate(p) {
            tree.clause_triples(p, &mut out);
        }
        for b in tree.kids_with(p, &["appos"]) {
            tree.apposition(p, b, &mut out);
        }
        for x in tree.kids_with(p, &["nmod:poss"]) {
            tree.possessive(x, p, &mut out);
        }
    }
    out
}

/// A sentence's words with their children, for walking the tree.
struct Tree<'s, 'a> {
    words: &'s [ParsedWord<'a>],
    /// 0-based heads; `None` for the root (or an out-of-range head).
    head: Vec<Option<usize>>,
    /// Children of each word, ascending.
    kids: Vec<Vec<usize>>,
    lower: Vec<String>,
}

/// The subject of a clause and how sure the rules are of it.
struct Subject {
    heads: Vec<usize>,
    prior: f32,
}

/// Object and extra arguments of a clause, and relation words they add.
#[derive(Default)]
struct Arguments {
    object: Option<usize>,
    /// Relative pronoun object: the span is the antecedent's.
    object_span: Option<Range<usize>>,
    relation: Vec<usize>,
    extra: Vec<Range<usize>>,
}

/// What the triples of one clause share.
struct Clause {
    /// The verbs the relation reads: the head and any subjectless open
    /// complements it chains to.
    verbs: Vec<usize>,
    /// The relation's words, in order.
    relation: Vec<usize>,
    object_head: Option<usize>,
    object_span: Option<Range<usize>>,
    /// Other arguments (obliques, indirect objects...).
    extra: Vec<Range<usize>>,
}

impl<'s, 'a> Tree<'s, 'a> {
    fn new(words: &'s [ParsedWord<'a>]) -> Self {
        let n = words.len();
        let head: Vec<Option<usize>> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.head >= 1 && w.head <= n && w.head - 1 != i).then(|| w.head - 1))
            .collect();
        let mut kids = vec![Vec::new(); n];
        for (i, h) in head.iter().enumerate() {
            if let Some(h) = *h {
                kids[h].push(i);
            }
        }
        let lower = words.iter().map(|w| w.text.to_lowercase()).collect();
        Self { words, head, kids, lower }
    }

    fn rel(&self, i: usize) -> &str {
        self.words[i].deprel
    }

    /// The relation without its subtype: `nsubj` for `nsubj:pass`.
    fn base(&self, i: usize) -> &str {
        let r = self.words[i].deprel;
        r.split_once(':').map_or(r, |(b, _)| b)
    }

    fn upos(&self, i: usize) -> &str {
        self.words[i].upos
    }

    /// Children whose relation or base relation is one of `rels`.
    fn kids_with<'t>(&'t self, i: usize, rels: &'t [&str]) -> impl Iterator<Item = usize> + 't {
        self.kids[i].iter().copied().filter(move |&c| rels.contains(&self.rel(c)) || rels.contains(&self.base(c)))
    }

    fn is_negation(&self, i: usize) -> bool {
        matches!(self.base(i), "advmod" | "neg" | "det") && NEGATIONS.contains(&self.lower[i].as_str())
    }

    fn is_relative_pronoun(&self, i: usize) -> bool {
        matches!(self.upos(i), "PRON" | "DET") && RELATIVE_PRONOUNS.contains(&self.lower[i].as_str())
    }

    fn is_verb(&self, i: usize) -> bool {
        self.upos(i) == "VERB" || (self.upos(i) == "AUX" && self.kids_with(i, &["cop"]).next().is_none())
    }

    fn copula(&self, i: usize) -> Option<usize> {
        self.kids_with(i, &["cop"]).next()
    }

    /// Heads a clause: a verb or a word with a copula, in a clausal position.
    fn is_predicate(&self, p: usize) -> bool {
        let clausal = matches!(
            self.base(p),
            "root" | "conj" | "ccomp" | "advcl" | "acl" | "parataxis" | "csubj" | "xcomp" | "dep" | "list"
        );
        if !clausal || !(self.is_verb(p) || self.copula(p).is_some()) {
            return false;
        }
        !self.merges_into_governor(p)
    }

    /// Whether `x` is a subjectless verbal `xcomp` read as part of its
    /// governor's relation ("plans to build"): only when the governor is a
    /// verb with no object of its own (with one, "persuaded him to leave",
    /// the object is the xcomp's subject).
    fn merges_into_governor(&self, x: usize) -> bool {
        self.base(x) == "xcomp"
            && self.is_verb(x)
            && self.own_subject(x).is_none()
            && self.head[x].is_some_and(|g| self.is_verb(g) && self.kids_with(g, &["obj", "iobj"]).next().is_none())
    }

    /// Words as a phrase, joined by single spaces.
    fn phrase(&self, words: &[usize]) -> String {
        words.iter().map(|&i| self.words[i].text).collect::<Vec<_>>().join(" ")
    }

    fn own_subject(&self, p: usize) -> Option<usize> {
        self.kids_with(p, &["nsubj", "csubj"]).next()
    }

    /// The subject of clause `p`, or the one it shares.
    fn subject(&self, p: usize, depth: usize) -> Option<Subject> {
        if depth > 8 {
            return None;
        }
        if let Some(s) = self.own_subject(p) {
            if self.is_relative_pronoun(s) && self.rel(p) == "acl:relcl" {
                let antecedent = self.head[p]?;
                return Some(Subject { heads: self.conjuncts(antecedent), prior: prior::RELATIVE });
            }
            return Some(Subject { heads: self.conjuncts(s), prior: prior::DIRECT });
        }
        let g = self.head[p]?;
        let inherited = |s: Subject| Subject { prior: s.prior * prior::INHERITED_SUBJECT, ..s };
        match self.rel(p) {
            "conj" if self.is_verb(g) || self.copula(g).is_some() => self.subject(g, depth + 1).map(inherited),
            "xcomp" => match self.kids_with(g, &["obj"]).next() {
                Some(o) => Some(Subject { heads: vec![o], prior: prior::INHERITED_SUBJECT }),
                None => self.subject(g, depth + 1).map(inherited),
            },
            "acl:relcl" | "acl" => Some(Subject { heads: self.conjuncts(g), prior: prior::RELATIVE }),
            "advcl" => self.subject(g, depth + 1).map(inherited),
            _ => None,
        }
    }

    /// A word and the words coordinated with it ("Anna and Ben" → Anna, Ben).
    fn conjuncts(&self, w: usize) -> Vec<usize> {
        let mut out = vec![w];
        let mut i = 0;
        while i < out.len() && out.len() < MAX_CONJUNCTS {
            let x = out[i];
            for c in self.kids_with(x, &["conj"]) {
                if !self.is_verb(c) && self.copula(c).is_none() && out.len() < MAX_CONJUNCTS {
                    out.push(c);
                }
            }
            i += 1;
        }
        out
    }

    /// The verb, its auxiliaries, negation and particle.
    fn verb_group(&self, v: usize) -> Vec<usize> {
        let mut out = vec![v];
        for c in &self.kids[v] {
            let c = *c;
            if matches!(self.base(c), "aux" | "cop") || self.rel(c) == "compound:prt" || self.is_negation(c) {
                out.push(c);
            }
        }
        out
    }

    /// Prepositions of an oblique: its `case` children and what is fixed to them ("because of").
    fn case_words(&self, o: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for c in self.kids_with(o, &["case"]) {
            out.push(c);
            out.extend(self.kids_with(c, &["fixed"]));
        }
        out
    }

    /// The contiguous words of `root`'s subtree around it, leaving out the
    /// subtrees of the children `skip` names (matched on the base relation
    /// or the full one) and any listed word; edge punctuation and
    /// conjunctions are trimmed.
    fn span(&self, root: usize, skip: &[&str], leave_out: &[usize]) -> Range<usize> {
        let n = self.words.len();
        let mut inside = vec![false; n];
        inside[root] = true;
        let mut stack = vec![root];
        while let Some(x) = stack.pop() {
            for &c in &self.kids[x] {
                let skipped = x == root && (skip.contains(&self.rel(c)) || skip.contains(&self.base(c)));
                if skipped || leave_out.contains(&c) || inside[c] {
                    continue;
                }
                inside[c] = true;
                stack.push(c);
            }
        }
        let (mut a, mut b) = (root, root + 1);
        while a > 0 && inside[a - 1] {
            a -= 1;
        }
        while b < n && inside[b] {
            b += 1;
        }
        let junk = |i: usize| self.upos(i) == "PUNCT" || self.base(i) == "cc";
        while a < root && junk(a) {
            a += 1;
        }
        while b - 1 > root && junk(b - 1) {
            b -= 1;
        }
        a..b
    }

    /// A nominal argument: the noun phrase without relative clauses,
    /// appositions or coordinated members (those make triples of their own).
    fn argument_span(&self, w: usize, leave_out: &[usize]) -> Range<usize> {
        self.span(w, &["acl:relcl", "appos", "conj", "cc", "punct", "parataxis", "dep"], leave_out)
    }

    /// A nominal as an argument; a predicate nominal ("was an influence on X")
    /// without its clause.
    fn nominal_span(&self, w: usize) -> Range<usize> {
        match self.copula(w) {
            Some(_) => self.predicate_nominal_span(w),
            None => self.argument_span(w, &[]),
        }
    }

    /// The antecedent a relative clause `p` modifies, as a span.
    fn antecedent_span(&self, p: usize) -> Option<Range<usize>> {
        let a = self.head[p]?;
        Some(self.nominal_span(a))
    }

    /// Object, extra arguments and relation words of the clause whose
    /// arguments hang on `verbs` (the verb and the open complements merged into it).
    fn arguments(&self, p: usize, verbs: &[usize]) -> Arguments {
        let mut args = Arguments::default();
        let relative = self.rel(p) == "acl:relcl";
        let core = *verbs.last().unwrap_or(&p);
        let mut objects: Vec<usize> = verbs.iter().flat_map(|&v| self.kids_with(v, &["obj"])).collect();
        objects.sort_unstable();
        let mut extra: Vec<usize> = verbs.iter().flat_map(|&v| self.kids_with(v, &["iobj"])).collect();
        let mut obliques: Vec<usize> = verbs.iter().flat_map(|&v| self.kids_with(v, &["obl"])).collect();
        obliques.sort_unstable();
        let mut complements: Vec<usize> = verbs
            .iter()
            .flat_map(|&v| self.kids_with(v, &["ccomp", "xcomp"]))
            .filter(|&c| !verbs.contains(&c))
            // An open complement with a subject of its own is a clause of its own.
            .filter(|&c| !(self.rel(c) == "xcomp" && self.is_verb(c) && self.own_subject(c).is_some()))
            .collect();
        complements.sort_unstable();

        if let Some(&o) = objects.first() {
            args.object = Some(o);
            if relative && self.is_relative_pronoun(o) {
                args.object_span = self.antecedent_span(p);
            }
            extra.extend(objects.iter().skip(1));
            extra.extend(obliques.iter().copied());
        } else {
            // Fold an oblique's preposition into the relation: the agent of a
            // passive first, else the first oblique after the verb, else any.
            let foldable: Vec<usize> = obliques.iter().copied().filter(|&o| !self.case_words(o).is_empty()).collect();
            let pick = foldable
                .iter()
                .copied()
                .find(|&o| self.rel(o) == "obl:agent")
                .or_else(|| foldable.iter().copied().find(|&o| o > core))
                .or_else(|| foldable.first().copied());
            let predicative = complements.iter().copied().find(|&c| self.rel(c) == "xcomp" && !self.is_verb(c));
            if let Some(c) = predicative {
                args.object = Some(c);
            } else if let Some(o) = pick {
                args.object = Some(o);
                args.relation = self.case_words(o);
                if relative && self.is_relative_pronoun(o) {
                    args.object_span = self.antecedent_span(p);
                }
            } else if let Some(&c) = complements.first() {
                args.object = Some(c);
            }
            extra.extend(obliques.iter().copied().filter(|&o| Some(o) != args.object));
        }
        extra.extend(complements.iter().copied().filter(|&c| Some(c) != args.object));
        extra.sort_unstable();
        extra.dedup();
        args.extra = extra
            .into_iter()
            .filter(|&e| !(relative && self.is_relative_pronoun(e)))
            .map(|e| self.span(e, &["punct", "conj", "cc", "parataxis"], &[]))
            .collect();
        args
    }

    /// What the triples of the clause headed by `p` (with its `copula`,
    /// if any) share: the verbs and words of the relation, the object and
    /// the other arguments.
    fn clause(&self, p: usize, copula: Option<usize>) -> Clause {
        // The chain of verbs the relation reads: p and any subjectless open complements.
        let mut verbs = vec![p];
        let mut relation = Vec::new();
        let (object_head, object_span, extra);
        if let Some(cop) = copula {
            // "is in Paris": copula, auxiliaries and negation, plus the predicate's preposition.
            relation.push(cop);
            relation.extend(self.kids[p].iter().copied().filter(|&c| self.base(c) == "aux" || self.is_negation(c)));
            let case = self.case_words(p);
            relation.extend(case.iter().copied());
            object_head = Some(p);
            object_span = Some(self.predicate_nominal_span(p));
            extra = self.kids_with(p, &["obl", "ccomp"]).map(|o| self.span(o, &["punct", "conj", "cc"], &[])).collect();
        } else {
            relation.extend(self.verb_group(p));
            let mut v = p;
            while let Some(x) = self.kids_with(v, &["xcomp"]).find(|&x| self.merges_into_governor(x)) {
                relation.extend(self.kids_with(x, &["mark"]));
                relation.extend(self.verb_group(x));
                verbs.push(x);
                v = x;
                if verbs.len() > 4 {
                    break;
                }
            }
            let args = self.arguments(p, &verbs);
            relation.extend(args.relation.iter().copied());
            object_head = args.object;
            object_span = args.object_span.or_else(|| args.object.map(|o| self.object_span(o, &args.relation)));
            extra = args.extra;
        }
        relation.sort_unstable();
        relation.dedup();
        Clause { verbs, relation, object_head, object_span, extra }
    }

    /// The triples of the clause headed by `p`.
    fn clause_triples(&self, p: usize, out: &mut Vec<WordTriple>) {
        let Some(subject) = self.subject(p, 0) else { return };
        let copula = self.copula(p);
        let Clause { verbs, relation, object_head, object_span, extra } = self.clause(p, copula);
        let label = self.phrase(&relation);

        // One triple per coordinated subject and object.
        let span_of = |c: usize| match copula {
            Some(_) => self.predicate_nominal_span(c),
            None => self.object_span(c, &relation),
        };
        let objects: Vec<Option<(Range<usize>, usize)>> = match (object_head, object_span) {
            // A relative pronoun's span is its antecedent's: no conjuncts of its own.
            (Some(o), Some(span)) if span.contains(&o) => self
                .conjuncts(o)
                .into_iter()
                .map(|c| Some((if c == o { span.clone() } else { span_of(c) }, c)))
                .collect(),
            (Some(o), Some(span)) => vec![Some((span, o))],
            _ => vec![None],
        };
        let coordinated = subject.heads.len() > 1 || objects.len() > 1;
        for &s in &subject.heads {
            let subject_span = self.nominal_span(s);
            for object in &objects {
                if let Some((o, _)) = object {
                    if overlaps(&subject_span, o) {
                        continue;
                    }
                }
                let mut prior = subject.prior;
                if object.is_none() {
                    prior *= prior::NO_OBJECT;
                }
                if coordinated {
                    prior *= prior::COORDINATED;
                }
                let mut sure = vec![self.words[p].confidence, self.words[s].confidence];
                if let Some((_, oh)) = object {
                    sure.push(self.words[*oh].confidence);
                }
                out.push(WordTriple {
                    subject: subject_span.clone(),
                    relation: relation.clone(),
                    label: label.clone(),
                    object: object.as_ref().map(|(o, _)| o.clone()),
                    arguments: extra.clone(),
                    score: prior * geometric_mean(&sure),
                });
            }
        }
        if copula.is_none() {
            self.active_voice(p, &verbs, out);
        }
    }

    /// A passive with an agent, also in the active voice: "The plant was
    /// built by Siemens" → (Siemens; built; The plant).
    fn active_voice(&self, p: usize, verbs: &[usize], out: &mut Vec<WordTriple>) {
        let core = *verbs.last().unwrap_or(&p);
        let Some(agent) = self.kids_with(core, &["obl:agent"]).next() else { return };
        let Some(patient) = self.kids_with(p, &["nsubj:pass"]).next() else { return };
        if self.is_relative_pronoun(patient) || self.is_relative_pronoun(agent) {
            return;
        }
        let case = self.case_words(agent);
        let subject = self.argument_span(agent, &case);
        let object = self.argument_span(patient, &[]);
        if overlaps(&subject, &object) {
            return;
        }
        let relation: Vec<usize> = {
            let mut r: Vec<usize> =
                verbs.iter().flat_map(|&v| self.verb_group(v)).filter(|&w| self.rel(w) != "aux:pass").collect();
            r.sort_unstable();
            r.dedup();
            r
        };
        let label = self.phrase(&relation);
        let sure = [self.words[p].confidence, self.words[agent].confidence, self.words[patient].confidence];
        out.push(WordTriple {
            subject,
            relation,
            label,
            object: Some(object),
            arguments: Vec::new(),
            score: prior::ACTIVE_VOICE * geometric_mean(&sure),
        });
    }

    /// The predicate of a copular clause as a span: the nominal or
    /// adjective with its own modifiers, without the clause's words or its preposition.
    fn predicate_nominal_span(&self, p: usize) -> Range<usize> {
        let mut skip: Vec<&str> = CLAUSE_LEVEL.to_vec();
        skip.extend(["case", "acl:relcl", "appos"]);
        self.span(p, &skip, &self.case_words(p))
    }

    /// A verb's object as a span: the noun phrase, or a whole clausal complement.
    fn object_span(&self, o: usize, relation: &[usize]) -> Range<usize> {
        if matches!(self.base(o), "ccomp" | "xcomp" | "csubj") {
            self.span(o, &["punct"], relation)
        } else {
            self.argument_span(o, relation)
        }
    }

    /// "Anna Keller, the plant's director, …": (Anna Keller; is; the plant's director).
    fn apposition(&self, a: usize, b: usize, out: &mut Vec<WordTriple>) {
        if matches!(self.upos(a), "PUNCT" | "SYM") || matches!(self.upos(b), "PUNCT" | "SYM") {
            return;
        }
        let subject = self.argument_span(a, &[]);
        let object = self.argument_span(b, &[]);
        if overlaps(&subject, &object) {
            return;
        }
        out.push(WordTriple {
            subject,
            relation: Vec::new(),
            label: "is".into(),
            object: Some(object),
            arguments: Vec::new(),
            score: prior::APPOSITION * geometric_mean(&[self.words[b].confidence]),
        });
    }
}

impl Tree<'_, '_> {
    /// "Siemens's plant in Hamburg": (Siemens; has; plant in Hamburg). Not
    /// for possessive pronouns, whose referent is elsewhere.
    fn possessive(&self, owner: usize, owned: usize, out: &mut Vec<WordTriple>) {
        if matches!(self.upos(owner), "PRON" | "DET") || matches!(self.upos(owned), "PRON" | "PUNCT" | "SYM") {
            return;
        }
        let case = self.case_words(owner);
        let subject = self.argument_span(owner, &case);
        let object =
            self.span(owned, &["nmod:poss", "acl:relcl", "appos", "conj", "cc", "punct", "parataxis", "dep"], &[]);
        let object = if self.copula(owned).is_some() { self.predicate_nominal_span(owned) } else { object };
        if overlaps(&subject, &object) {
            return;
        }
        out.push(WordTriple {
            subject,
            relation: case,
            label: "has".into(),
            object: Some(object),
            arguments: Vec::new(),
            score: prior::POSSESSIVE * geometric_mean(&[self.words[owner].confidence]),
        });
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

fn geometric_mean(values: &[f32]) -> f32 {
    if values.is_empty() {
        return 1.0;
    }
    let log: f32 = values.iter().map(|v| v.clamp(1e-6, 1.0).ln()).sum();
    (log / values.len() as f32).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sentence written as `text/UPOS/head/deprel` words, each arc certain.
    fn parse(tree: &str) -> Vec<ParsedWord<'_>> {
        tree.split_whitespace()
            .map(|w| {
                let mut f = w.rsplitn(4, '/');
                let (deprel, head, upos, text) = (f.next(), f.next(), f.next(), f.next());
                ParsedWord {
                    text: text.expect("text"),
                    upos: upos.expect("upos"),
                    head: head.expect("head").parse().expect("head number"),
                    deprel: deprel.expect("deprel"),
                    confidence: 1.0,
                }
            })
            .collect()
    }

    /// Each triple as `subject | label | object | arguments…` in words.
    fn facts(tree: &str) -> Vec<String> {
        let words = parse(tree);
        let text = |r: &Range<usize>| words[r.clone()].iter().map(|w| w.text).collect::<Vec<_>>().join(" ");
        triples(&words)
            .iter()
            .map(|t| {
                assert!((0.0..=1.0).contains(&t.score), "score {}", t.score);
                let mut parts = vec![text(&t.subject), t.label.clone(), t.object.as_ref().map_or("-".into(), text)];
                parts.extend(t.arguments.iter().map(text));
                parts.join(" | ")
            })
            .collect()
    }

    fn assert_facts(tree: &str, expected: &[&str]) {
        let mut got = facts(tree);
        got.sort();
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{tree}");
    }

    #[test]
    fn svo() {
        assert_facts(
            "Siemens/PROPN/2/nsubj built/VERB/0/root the/DET/4/det plant/NOUN/2/obj ./PUNCT/2/punct",
            &["Siemens | built | the plant"],
        );
    }

    #[test]
    fn sv_has_no_object_and_scores_low() {
        let words = parse("The/DET/2/det plant/NOUN/3/nsubj closed/VERB/0/root ./PUNCT/3/punct");
        let t = triples(&words);
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].subject.clone(), t[0].label.as_str(), t[0].object.clone()), (0..2, "closed", None));
        let svo = triples(&parse("Siemens/PROPN/2/nsubj built/VERB/0/root it/PRON/2/obj"));
        assert!(t[0].score < svo[0].score / 2.0, "{} vs {}", t[0].score, svo[0].score);
    }

    #[test]
    fn svc_copula() {
        assert_facts(
            "Anna/PROPN/4/nsubj is/AUX/4/cop the/DET/4/det director/NOUN/0/root of/ADP/6/case Siemens/PROPN/4/nmod ./PUNCT/4/punct",
            &["Anna | is | the director of Siemens"],
        );
        // A preposition on the predicate joins the relation.
        assert_facts("She/PRON/4/nsubj was/AUX/4/cop in/ADP/4/case Paris/PROPN/0/root", &["She | was in | Paris"]);
    }

    #[test]
    fn sva_folds_the_preposition_into_the_relation() {
        assert_facts(
            "The/DET/2/det plant/NOUN/4/nsubj:pass is/AUX/4/aux:pass located/VERB/0/root in/ADP/6/case Hamburg/PROPN/4/obl ./PUNCT/4/punct",
            &["The plant | is located in | Hamburg"],
        );
    }

    #[test]
    fn svoo_keeps_the_indirect_object_as_an_argument() {
        assert_facts(
            "She/PRON/2/nsubj gave/VERB/0/root him/PRON/2/iobj a/DET/5/det book/NOUN/2/obj",
            &["She | gave | a book | him"],
        );
    }

    #[test]
    fn svoa_keeps_the_oblique_as_an_argument() {
        assert_facts(
            "He/PRON/2/nsubj put/VERB/0/root the/DET/4/det book/NOUN/2/obj on/ADP/7/case the/DET/7/det table/NOUN/2/obl",
            &["He | put | the book | on the table"],
        );
    }

    #[test]
    fn svoc_keeps_the_complement_as_an_argument() {
        assert_facts(
            "They/PRON/2/nsubj elected/VERB/0/root him/PRON/2/obj president/NOUN/2/xcomp",
            &["They | elected | him | president"],
        );
        // Without an object the complement is the object: "remains distinct from X".
        assert_facts(
            "It/PRON/2/nsubj remains/VERB/0/root distinct/ADJ/2/xcomp from/ADP/6/case the/DET/6/det rest/NOUN/3/obl",
            &["It | remains | distinct from the rest"],
        );
    }

    #[test]
    fn passive_with_agent_also_reads_in_the_active_voice() {
        let tree = "The/DET/2/det bridge/NOUN/4/nsubj:pass was/AUX/4/aux:pass built/VERB/0/root by/ADP/6/case engineers/NOUN/4/obl:agent";
        assert_facts(tree, &["The bridge | was built by | engineers", "engineers | built | The bridge"]);
        let t = triples(&parse(tree));
        assert!(t[1].score < t[0].score, "the surface form ranks first");
    }

    #[test]
    fn coordinated_subjects_objects_and_verbs_split() {
        assert_facts(
            "Anna/PROPN/4/nsubj and/CCONJ/3/cc Ben/PROPN/1/conj visited/VERB/0/root Paris/PROPN/4/obj and/CCONJ/7/cc Rome/PROPN/5/conj",
            &["Anna | visited | Paris", "Anna | visited | Rome", "Ben | visited | Paris", "Ben | visited | Rome"],
        );
        assert_facts(
            "He/PRON/2/nsubj served/VERB/0/root as/ADP/4/case mayor/NOUN/2/obl and/CCONJ/6/cc became/VERB/2/conj a/DET/8/det judge/NOUN/6/obj",
            &["He | served as | mayor", "He | became | a judge"],
        );
    }

    #[test]
    fn relative_clauses_resolve_to_their_antecedent() {
        // The man who founded Siemens lived in Berlin.
        assert_facts(
            "The/DET/2/det man/NOUN/6/nsubj who/PRON/4/nsubj founded/VERB/2/acl:relcl Siemens/PROPN/4/obj lived/VERB/0/root in/ADP/8/case Berlin/PROPN/6/obl",
            &["The man | founded | Siemens", "The man | lived in | Berlin"],
        );
        // The turbine that engineers repaired works.
        assert_facts(
            "The/DET/2/det turbine/NOUN/6/nsubj that/PRON/5/obj engineers/NOUN/5/nsubj repaired/VERB/2/acl:relcl works/VERB/0/root",
            &["engineers | repaired | The turbine", "The turbine | works | -"],
        );
    }

    #[test]
    fn open_complements_join_the_relation() {
        assert_facts(
            "Siemens/PROPN/2/nsubj plans/VERB/0/root to/PART/4/mark build/VERB/2/xcomp a/DET/6/det plant/NOUN/4/obj",
            &["Siemens | plans to build | a plant"],
        );
        // With an object of its own the governor does not merge: the object is the complement's subject.
        assert_facts(
            "She/PRON/2/nsubj asked/VERB/0/root him/PRON/2/obj to/PART/5/mark leave/VERB/2/xcomp",
            &["She | asked | him | to leave", "him | leave | -"],
        );
    }

    #[test]
    fn clausal_complements_are_objects_and_clauses_of_their_own() {
        assert_facts(
            "He/PRON/2/nsubj said/VERB/0/root that/SCONJ/6/mark the/DET/5/det plant/NOUN/6/nsubj closed/VERB/2/ccomp",
            &["He | said | that the plant closed", "the plant | closed | -"],
        );
    }

    #[test]
    fn negation_and_modality_stay_in_the_relation() {
        assert_facts(
            "The/DET/2/det plant/NOUN/5/nsubj will/AUX/5/aux not/PART/5/advmod close/VERB/0/root in/ADP/7/case May/PROPN/5/obl",
            &["The plant | will not close in | May"],
        );
    }

    #[test]
    fn a_relation_may_leave_gaps() {
        let words = parse("He/PRON/2/nsubj turned/VERB/0/root the/DET/4/det light/NOUN/2/obj off/ADP/2/compound:prt");
        let t = triples(&words);
        assert_eq!(t[0].relation, vec![1, 4]);
        assert_eq!(t[0].label, "turned off");
        assert_eq!(t[0].object, Some(2..4));
    }

    #[test]
    fn appositions_give_an_is_triple() {
        assert_facts(
            "Anna/PROPN/7/nsubj Keller/PROPN/1/flat ,/PUNCT/5/punct the/DET/5/det director/NOUN/1/appos ,/PUNCT/5/punct visited/VERB/0/root Hamburg/PROPN/7/obj",
            &["Anna Keller | is | the director", "Anna Keller | visited | Hamburg"],
        );
    }

    #[test]
    fn adverbial_clauses_are_not_arguments() {
        // When the plant closed, workers left the city.
        assert_facts(
            "When/SCONJ/4/mark the/DET/3/det plant/NOUN/4/nsubj closed/VERB/7/advcl ,/PUNCT/4/punct workers/NOUN/7/nsubj left/VERB/0/root the/DET/9/det city/NOUN/7/obj",
            &["workers | left | the city", "the plant | closed | -"],
        );
    }

    #[test]
    fn malformed_trees_do_not_panic() {
        // Heads past the end, a cycle, a self-loop.
        let words = parse("a/VERB/9/root b/NOUN/3/nsubj c/VERB/2/conj d/NOUN/4/obj");
        let _ = triples(&words);
        assert!(triples(&[]).is_empty());
    }
}
