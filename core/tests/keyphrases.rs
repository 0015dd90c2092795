//! Key phrases with the shipped default models: the phrases a reader would
//! pick from hand-written documents, every occurrence found and exact in
//! every offset unit, the same alone and in a batch, options checked.

use std::sync::OnceLock;

use edgemine::{
    BATCH_ROUNDING, Engine, Error, KeyPhrase, KeyphraseOptions, OffsetUnit, Options, PhraseEmbedding, Task,
    normalize_phrase,
};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new().expect("the default models load"))
}

const PUMP_REPORT: &str = "Cooling pump failure at the Hamburg plant

On Monday the cooling pump of line 3 failed after the bearing temperature rose above 90 degrees. The maintenance \
team replaced the pump bearing and flushed the cooling circuit. Vibration analysis showed that the bearing had been \
damaged by cavitation. Cavitation in the cooling pump was caused by low suction pressure, because the inlet filter was \
clogged. The team cleaned the inlet filter and added a pressure sensor to the suction line. Cooling pumps on lines 1 \
and 2 will be inspected next week.";

const SOLAR_ABSTRACT: &str = "Solar power forecasting with satellite images

We present a method for short-term solar power forecasting that combines satellite images with ground measurements. \
Cloud motion vectors are estimated from consecutive satellite images and used to predict the irradiance at each \
photovoltaic plant. A gradient boosting model then corrects the irradiance forecast with recent ground measurements. \
On data from 40 photovoltaic plants in Spain, the method reduces the forecast error by 18 percent compared with a \
persistence baseline. The largest gains occur on days with broken clouds, when cloud motion dominates the variability \
of solar power.";

const PORT_NEWS: &str = "Rotterdam port trials remote-controlled cranes

The Port of Rotterdam has started a six-month trial of remote-controlled container cranes at its Maasvlakte terminal. \
Crane operators now work from a control room two kilometres from the quay, watching camera feeds instead of sitting \
in the crane cabin. The terminal operator says remote operation reduces fatigue and lets one operator supervise \
several cranes during quiet shifts. The dockworkers' union has asked for guarantees on jobs and training before the \
trial is extended. If the trial succeeds, all twelve quay cranes at the terminal will be converted by 2028.";

fn keyphrases(text: &str, options: Options) -> Vec<KeyPhrase> {
    let x = engine().extract_with(text, &options.with_tasks([Task::Keyphrases])).expect("extract");
    assert!(x.entities.is_none() && x.words.is_none() && x.triples.is_none(), "only what was asked");
    x.keyphrases.expect("keyphrases ran")
}

/// How many of the phrases a reader picked are among the top ten.
fn picked(found: &[KeyPhrase], reader: &[&str]) -> Vec<String> {
    let top: Vec<String> = found.iter().take(10).map(|k| normalize_phrase(&k.text)).collect();
    reader.iter().filter(|r| top.contains(&normalize_phrase(r))).map(|r| r.to_string()).collect()
}

#[test]
fn the_phrases_a_reader_would_pick() {
    let cases: [(&str, &[&str], usize); 3] = [
        (
            PUMP_REPORT,
            &[
                "cooling pump",
                "cavitation",
                "inlet filter",
                "suction pressure",
                "vibration analysis",
                "pump bearing",
                "bearing temperature",
                "cooling circuit",
            ],
            4,
        ),
        (
            SOLAR_ABSTRACT,
            &[
                "solar power forecasting",
                "satellite images",
                "cloud motion vectors",
                "photovoltaic plants",
                "irradiance",
                "gradient boosting",
                "ground measurements",
                "forecast error",
            ],
            4,
        ),
        (
            PORT_NEWS,
            &[
                "container cranes",
                "remote operation",
                "crane operators",
                "quay cranes",
                "control room",
                "Port of Rotterdam",
                "Maasvlakte terminal",
                "crane cabin",
            ],
            3,
        ),
    ];
    for embedding in PhraseEmbedding::ALL {
        for (text, reader, at_least) in cases {
            let found = keyphrases(text, embedded(embedding, Options::default()));
            assert_eq!(found.len(), 10, "the default top 10");
            let hits = picked(&found, reader);
            let shown: Vec<&str> = found.iter().map(|k| k.text.as_str()).collect();
            assert!(hits.len() >= at_least, "{embedding:?}: {hits:?} of {reader:?} in {shown:?}");
            assert!(found.iter().all(|k| (0.0..=1.0).contains(&k.score)));
        }
    }
}

#[test]
fn every_occurrence_is_found_and_exact_in_every_unit() {
    let text = format!("👋 Zoë's note. {PUMP_REPORT}");
    for unit in [OffsetUnit::Utf8, OffsetUnit::Char, OffsetUnit::Utf16] {
        let options = Options::default().with_offsets(unit);
        let found =
            keyphrases(&text, Options { keyphrases: KeyphraseOptions { top_k: 500, ..Default::default() }, ..options });
        assert!(found.len() > 10);
        for k in &found {
            assert!(!k.occurrences.is_empty());
            for o in &k.occurrences {
                assert_eq!(
                    normalize_phrase(&slice(&text, unit, o.start, o.end)),
                    normalize_phrase(&k.text),
                    "{unit:?}"
                );
            }
            assert!(k.occurrences.windows(2).all(|w| w[0].start < w[1].start), "document order, once each");
        }
        let pump = found.iter().find(|k| normalize_phrase(&k.text) == "cooling pump").expect("cooling pump");
        let written: Vec<String> = pump.occurrences.iter().map(|o| slice(&text, unit, o.start, o.end)).collect();
        assert_eq!(written, ["Cooling pump", "cooling pump", "cooling pump", "Cooling pumps"]);
        assert_eq!(pump.text, "cooling pump", "named by its most frequent form");
    }
}

#[test]
fn alone_and_in_a_batch_alike() {
    let docs = [PUMP_REPORT, "Short.", SOLAR_ABSTRACT, "東京 and Berlin 👋 are far apart.", PORT_NEWS];
    for embedding in PhraseEmbedding::ALL {
        let options = embedded(embedding, Options::default().with_tasks([Task::Keyphrases, Task::Entities]));
        for (doc, batch) in docs.iter().zip(engine().extract_batch_with(&docs, &options)) {
            let (batch, single) = (batch.expect("batch"), engine().extract_with(doc, &options).expect("single"));
            // Up to rounding: the rows a document shares in a batch change
            // the order of tract's sums (`Extraction::equal_up_to`).
            assert!(batch.equal_up_to(&single, BATCH_ROUNDING), "{embedding:?}: {doc}\n{batch:?}\n{single:?}");
        }
    }
}

#[test]
fn candidates_embedded_in_context_are_the_same_candidates_ranked_their_own_way() {
    let all = |embedding| {
        let o = KeyphraseOptions { top_k: 500, explain: true, embedding, ..Default::default() };
        let mut found = keyphrases(SOLAR_ABSTRACT, Options { keyphrases: o, ..Options::default() });
        found.sort_by(|a, b| a.text.cmp(&b.text));
        found
    };
    let (alone, in_context) = (all(PhraseEmbedding::Alone), all(PhraseEmbedding::InContext));
    let texts = |found: &[KeyPhrase]| found.iter().map(|k| (k.text.clone(), k.occurrences.clone())).collect::<Vec<_>>();
    assert_eq!(texts(&alone), texts(&in_context), "the same candidates and occurrences");
    for (a, c) in alone.iter().zip(&in_context) {
        let (fa, fc) = (a.features.expect("explained"), c.features.expect("explained"));
        assert_eq!((fa.frequency, fa.termhood, fa.words), (fc.frequency, fc.termhood, fc.words), "{}", a.text);
        assert!(
            (fc.score(engine().keyphrase_ranker(PhraseEmbedding::InContext)) - c.score).abs() < 1e-6,
            "its own ranker"
        );
    }
    // The embedding signals differ: pooled from the sentences, not the phrase alone.
    let differ = alone.iter().zip(&in_context).filter(|(a, c)| {
        let (fa, fc) = (a.features.expect("explained"), c.features.expect("explained"));
        (fa.document - fc.document).abs() > 1e-3
    });
    assert!(differ.count() > alone.len() / 2);
}

/// `options` with candidates embedded as `embedding` says.
fn embedded(embedding: PhraseEmbedding, options: Options) -> Options {
    Options { keyphrases: KeyphraseOptions { embedding, ..options.keyphrases.clone() }, ..options }
}

#[test]
fn top_k_diversity_and_explanations_are_options() {
    let options = |o: KeyphraseOptions| Options { keyphrases: o, ..Options::default() };
    let three = keyphrases(SOLAR_ABSTRACT, options(KeyphraseOptions { top_k: 3, ..Default::default() }));
    assert_eq!(three.len(), 3);
    assert!(three.iter().all(|k| k.features.is_none()), "features only when asked");
    // Relevance alone is in score order; the default adds diversity.
    let by_score = keyphrases(SOLAR_ABSTRACT, options(KeyphraseOptions { mmr_lambda: 1.0, ..Default::default() }));
    assert!(by_score.windows(2).all(|w| w[0].score >= w[1].score));
    let diverse = keyphrases(SOLAR_ABSTRACT, options(KeyphraseOptions { mmr_lambda: 0.3, ..Default::default() }));
    assert_ne!(
        diverse.iter().map(|k| &k.text).collect::<Vec<_>>(),
        by_score.iter().map(|k| &k.text).collect::<Vec<_>>()
    );
    let explained = keyphrases(SOLAR_ABSTRACT, options(KeyphraseOptions { explain: true, ..Default::default() }));
    for k in &explained {
        let f = k.features.expect("features asked for");
        let ranker = engine().keyphrase_ranker(PhraseEmbedding::default());
        assert!((f.score(ranker) - k.score).abs() < 1e-6, "the score is the features' score");
        assert!(f.words >= 1 && f.frequency > 0.0);
    }
    // A phrase longer than max_words is never a candidate.
    let short = keyphrases(SOLAR_ABSTRACT, options(KeyphraseOptions { max_words: 1, top_k: 50, ..Default::default() }));
    assert!(short.iter().all(|k| !normalize_phrase(&k.text).contains(' ')), "{short:?}");
}

#[test]
fn a_document_without_nouns_has_no_key_phrases() {
    assert_eq!(keyphrases("Oh well, so it goes!", Options::default()), []);
}

#[test]
fn bad_key_phrase_options_are_refused() {
    let bad = [
        (KeyphraseOptions { top_k: 0, ..Default::default() }, "top_k"),
        (KeyphraseOptions { mmr_lambda: 1.5, ..Default::default() }, "mmr_lambda"),
        (KeyphraseOptions { mmr_lambda: f32::NAN, ..Default::default() }, "mmr_lambda"),
        (KeyphraseOptions { max_words: 0, ..Default::default() }, "max_words"),
        (KeyphraseOptions { section_words: 0, ..Default::default() }, "section_words"),
    ];
    for (o, field) in bad {
        let err = engine()
            .extract_with(PUMP_REPORT, &Options { keyphrases: o, ..Options::default() }.with_tasks([Task::Keyphrases]))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidOption { name, .. } if name == field), "{err}");
    }
    // Options of a task not asked for are not checked.
    let o = KeyphraseOptions { top_k: 0, ..Default::default() };
    assert!(
        engine()
            .extract_with(PUMP_REPORT, &Options { keyphrases: o, ..Options::default() }.with_tasks([Task::Entities]))
            .is_ok()
    );
}

/// `text[start..end]` with offsets in `unit`.
fn slice(text: &str, unit: OffsetUnit, start: usize, end: usize) -> String {
    match unit {
        OffsetUnit::Utf8 => text[start..end].to_string(),
        OffsetUnit::Char => text.chars().skip(start).take(end - start).collect(),
        OffsetUnit::Utf16 => String::from_utf16(&text.encode_utf16().collect::<Vec<_>>()[start..end]).expect("utf16"),
    }
}
