//! The providers as a graph: a provider that reads `app_metadata.enrichment.X…`
//! depends on provider X. Ordered at start-up; cycles and unknown providers refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{ConfigError, Provider};

/// The providers whose results `provider` reads (from its `app_metadata.enrichment.X…`
/// paths), without repeats, in the order first read.
pub fn dependencies(provider: &dyn Provider) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for path in provider.reads() {
        let Some(rest) = path.strip_prefix("app_metadata.enrichment.") else {
            continue;
        };
        let name = rest.split('.').next().unwrap_or_default().to_owned();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Orders `providers` so that each comes after those it depends on (otherwise keeping
/// the configured order). Refuses a dependency on an unconfigured provider and a
/// cycle, naming it (`a → b → a`).
pub(crate) fn in_dependency_order(
    providers: Vec<Arc<dyn Provider>>,
) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let index: BTreeMap<String, usize> = providers
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name().to_owned(), i))
        .collect();
    let mut edges: Vec<Vec<usize>> = Vec::with_capacity(providers.len());
    for provider in &providers {
        let mut needs = Vec::new();
        for dependency in dependencies(provider.as_ref()) {
            let Some(&i) = index.get(&dependency) else {
                return Err(ConfigError::new(
                    &label(provider.name()),
                    format!(
                        "reads app_metadata.enrichment.{dependency}, but no provider `{dependency}` is configured"
                    ),
                ));
            };
            needs.push(i);
        }
        edges.push(needs);
    }
    let mut state = vec![Visit::New; providers.len()];
    let mut order = Vec::with_capacity(providers.len());
    let mut path = Vec::new();
    for start in 0..providers.len() {
        visit(start, &edges, &mut state, &mut order, &mut path).map_err(|cycle| {
            let names: Vec<&str> = cycle.iter().map(|&i| providers[i].name()).collect();
            ConfigError::new(
                &label(names[0]),
                format!(
                    "providers depend on each other in a cycle: {}",
                    names.join(" → ")
                ),
            )
        })?;
    }
    let mut slots: Vec<Option<Arc<dyn Provider>>> = providers.into_iter().map(Some).collect();
    Ok(order
        .into_iter()
        .map(|i| slots[i].take().expect("each provider is ordered once"))
        .collect())
}

/// How the configuration names a provider in messages.
fn label(name: &str) -> String {
    if super::BUILT_IN_NAMES.contains(&name) {
        name.to_owned()
    } else {
        format!("http.{name}")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    OnPath,
    Done,
}

/// Depth-first: appends `node` after everything it needs; on a cycle, returns it
/// (first node repeated at the end).
fn visit(
    node: usize,
    edges: &[Vec<usize>],
    state: &mut [Visit],
    order: &mut Vec<usize>,
    path: &mut Vec<usize>,
) -> Result<(), Vec<usize>> {
    match state[node] {
        Visit::Done => return Ok(()),
        Visit::OnPath => {
            let from = path.iter().position(|&n| n == node).expect("on the path");
            let mut cycle = path[from..].to_vec();
            cycle.push(node);
            return Err(cycle);
        }
        Visit::New => {}
    }
    state[node] = Visit::OnPath;
    path.push(node);
    for &next in &edges[node] {
        visit(next, edges, state, order, path)?;
    }
    path.pop();
    state[node] = Visit::Done;
    order.push(node);
    Ok(())
}
