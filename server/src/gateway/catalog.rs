//! The models the gateway offers: the enabled routes (Configuration → Routes, and the providers
//! file's, applied to the database at start), each with the targets whose providers are
//! enabled, tried in order. Everything lives in the database, so a change on a page is used on
//! the next request: [`LiveCatalog`] builds the catalog again whenever the access epoch moves,
//! with the enabled guardrails compiled beside the routes.

use domain::TeamId;
use domain::db::DatabaseConnection;
use domain::guardrails::matcher::RuleSet;
use domain::money::Money;
use domain::pricing::Price;
use domain::providers::name_key;
use domain::sealing::Sealer;
use domain::secret::Secret;
use domain::service::access_epoch::AccessWatch;
use domain::service::guardrails;
use domain::service::providers::{self, Upstream};
use domain::service::routes::{self, Served};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// An upstream the gateway forwards to.
#[derive(Debug)]
pub struct Provider {
    pub name: String,
    /// `base_url` + `/chat/completions`, parsed once here rather than on every request.
    pub chat_url: url::Url,
    /// The upstream's key; never sent to clients, and printed as a placeholder.
    pub api_key: Option<Secret>,
    /// How long to wait for the upstream to connect and then for each piece of its answer.
    pub timeout: Duration,
}

/// Where a route sends a request: a provider, the model name it knows, and its prices.
#[derive(Debug)]
pub struct Target {
    pub provider: Arc<Provider>,
    /// The model name sent upstream.
    pub upstream_name: String,
    pub price: Price,
}

/// A model clients may ask for: a route and its targets.
#[derive(Debug)]
pub struct Model {
    pub name: String,
    /// Those whose provider is enabled, in the order tried; never empty.
    pub targets: Vec<Target>,
    /// The teams whose keys may use it; `None`: every team, and keys outside any team.
    pub teams: Option<HashSet<i64>>,
    /// The smallest output limit of its targets: a request is held (and clamped) for whichever
    /// answers.
    pub max_output_tokens: u64,
    /// The most prompt tokens one image part can be billed at by any of its targets; without it
    /// (a target that does not say), requests with images cannot be held and are refused for
    /// keys with a spend limit.
    pub image_input_tokens: Option<u64>,
}

impl Model {
    /// Whether a key of `team` (`None`: outside any team) may use it.
    pub fn open_to(&self, team: Option<TeamId>) -> bool {
        match (&self.teams, team) {
            (None, _) => true,
            (Some(teams), Some(team)) => teams.contains(&team.0),
            (Some(_), None) => false,
        }
    }

    /// The most a request of `prompt` tokens in and `output` out can cost, at the dearest
    /// target: any of them may be the one that answers.
    pub fn worst_case(&self, prompt: u64, output: u64) -> Money {
        self.targets
            .iter()
            .map(|t| t.price.worst_case(prompt, output))
            .max()
            .unwrap_or(Money::ZERO)
    }

    /// The provider tried first.
    pub fn first_provider(&self) -> &Provider {
        &self.targets[0].provider
    }
}

/// The models on offer now, each with its (enabled) targets, by name.
#[derive(Debug, Default)]
pub struct Catalog {
    models: Vec<Arc<Model>>,
    by_name: HashMap<String, Arc<Model>>,
    /// The enabled guardrails, compiled.
    guardrails: RuleSet,
}

impl Catalog {
    pub fn guardrails(&self) -> &RuleSet {
        &self.guardrails
    }

    /// The same catalog, checking requests against `rules`.
    #[must_use]
    pub fn with_guardrails(self, rules: RuleSet) -> Self {
        Catalog {
            guardrails: rules,
            ..self
        }
    }

    pub fn model(&self, name: &str) -> Option<&Arc<Model>> {
        self.by_name.get(name)
    }

    pub fn models(&self) -> &[Arc<Model>] {
        &self.models
    }

    /// The `routes` with their targets whose provider is among `upstreams` (the enabled ones);
    /// a route left with none is not offered.
    pub fn build(routes: &[Served], upstreams: &[Upstream]) -> Self {
        let providers: HashMap<String, Arc<Provider>> = upstreams
            .iter()
            .filter_map(|u| {
                let chat_url = url::Url::parse(&format!("{}/chat/completions", u.base_url)).ok()?;
                Some((
                    name_key(&u.name),
                    Arc::new(Provider {
                        name: u.name.clone(),
                        chat_url,
                        api_key: u.api_key.clone(),
                        timeout: Duration::from_secs(u64::from(u.timeout_secs)),
                    }),
                ))
            })
            .collect();
        let mut catalog = Catalog::default();
        for route in routes {
            let served: Vec<_> = route
                .targets
                .iter()
                .filter_map(|t| Some((t, providers.get(&name_key(&t.provider))?)))
                .collect();
            if served.is_empty() {
                continue;
            }
            let image_input_tokens = served
                .iter()
                .map(|(t, _)| t.image_input_tokens)
                .collect::<Option<Vec<u64>>>()
                .and_then(|each| each.into_iter().max());
            let model = Arc::new(Model {
                name: route.name.clone(),
                max_output_tokens: served
                    .iter()
                    .map(|(t, _)| t.max_output_tokens)
                    .min()
                    .unwrap_or(1),
                image_input_tokens,
                targets: served
                    .into_iter()
                    .map(|(t, provider)| Target {
                        provider: Arc::clone(provider),
                        upstream_name: t.upstream_name.clone(),
                        price: t.price,
                    })
                    .collect(),
                teams: route.teams.as_ref().map(|t| t.iter().copied().collect()),
            });
            catalog
                .by_name
                .insert(route.name.clone(), Arc::clone(&model));
            catalog.models.push(model);
        }
        catalog
    }
}

/// How long a catalog built while the providers could not be read serves before another try.
const RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Built {
    version: Option<u64>,
    catalog: Arc<Catalog>,
    retry_at: Option<Instant>,
}

/// The catalog as of the access epoch this process last saw: built again from the database's
/// routes and providers on the first request after the epoch moved (a route or provider added,
/// changed, disabled or deleted in any process moves it).
#[derive(Debug)]
pub struct LiveCatalog {
    db: DatabaseConnection,
    sealer: Arc<Sealer>,
    access: Arc<AccessWatch>,
    /// The catalog, the access version it was built for (`None`: not built yet), and — when the
    /// providers could not be read for that version — when to try again.
    built: RwLock<Built>,
    /// One rebuild at a time; requests that find one running wait for it.
    rebuilding: tokio::sync::Mutex<()>,
}

impl LiveCatalog {
    pub fn new(db: DatabaseConnection, sealer: Arc<Sealer>, access: Arc<AccessWatch>) -> Self {
        LiveCatalog {
            db,
            sealer,
            access,
            built: RwLock::new(Built::default()),
            rebuilding: tokio::sync::Mutex::new(()),
        }
    }

    fn if_current(&self, version: u64) -> Option<Arc<Catalog>> {
        let built = self
            .built
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = built.retry_at.is_some_and(|at| Instant::now() >= at);
        (built.version == Some(version) && !due).then(|| Arc::clone(&built.catalog))
    }

    /// The catalog to serve this request with. When the database cannot be read, the last one
    /// built is used and the next request tries again.
    pub async fn current(&self) -> Arc<Catalog> {
        let version = self.access.version();
        if let Some(catalog) = self.if_current(version) {
            return catalog;
        }
        // While the database is failing, requests take the last catalog rather than queue
        // behind a retry; otherwise they wait for the rebuild, so none is served a change late.
        let _turn = match self.rebuilding.try_lock() {
            Ok(turn) => turn,
            Err(_) if self.failing() => return self.last(),
            Err(_) => self.rebuilding.lock().await,
        };
        // The version is read before the providers: a change committed meanwhile moves it
        // again, and the next request builds once more.
        let version = self.access.version();
        if let Some(catalog) = self.if_current(version) {
            return catalog;
        }
        let read = async {
            // One snapshot: routes name their providers by id and are joined to them by name,
            // so a rename between two reads must not send a target to another provider.
            let snapshot = domain::db::begin_snapshot(&self.db).await?;
            let upstreams = providers::enabled(&snapshot, &self.sealer).await?;
            let routes = routes::served(&snapshot).await?;
            let rules = guardrails::rule_set(&snapshot, self.last().guardrails()).await?;
            snapshot.commit().await?;
            Ok::<_, domain::Error>(Catalog::build(&routes, &upstreams).with_guardrails(rules))
        };
        let (catalog, retry_at) = match read.await {
            Ok(catalog) => (Arc::new(catalog), None),
            Err(e) => {
                // The last catalog serves meanwhile; requests do not queue to read the database
                // again one by one while it is down.
                tracing::error!(
                    "could not read the routes, providers and guardrails (trying again in a second): {e}"
                );
                (self.last(), Some(Instant::now() + RETRY_AFTER))
            }
        };
        let mut built = self
            .built
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *built = Built {
            version: Some(version),
            catalog: Arc::clone(&catalog),
            retry_at,
        };
        catalog
    }

    /// Whether the last read of the providers failed.
    fn failing(&self) -> bool {
        let built = self
            .built
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        built.retry_at.is_some()
    }

    fn last(&self) -> Arc<Catalog> {
        let built = self
            .built
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(&built.catalog)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::service::routes::ServedTarget;

    fn upstream(name: &str) -> Upstream {
        Upstream {
            name: name.into(),
            base_url: format!("http://127.0.0.1:9/{name}/v1"),
            api_key: None,
            timeout_secs: 5,
        }
    }

    fn target(provider: &str, usd_in: f64, max_out: u64, images: Option<u64>) -> ServedTarget {
        ServedTarget {
            provider: provider.into(),
            upstream_name: format!("{provider}-model"),
            price: Price::from_usd_per_mtok(usd_in, usd_in * 2.0).unwrap(),
            max_output_tokens: max_out,
            image_input_tokens: images,
        }
    }

    fn route(targets: Vec<ServedTarget>, teams: Option<Vec<i64>>) -> Served {
        Served {
            name: "chat".into(),
            teams,
            targets,
        }
    }

    #[test]
    fn a_route_keeps_the_targets_of_enabled_providers_in_order() {
        let routes = [route(
            vec![
                target("first", 1.0, 1000, Some(500)),
                target("off", 9.0, 10, None),
                target("Second", 3.0, 4000, Some(800)),
            ],
            None,
        )];
        let catalog = Catalog::build(&routes, &[upstream("second"), upstream("first")]);
        let model = catalog.model("chat").unwrap();
        let names: Vec<&str> = model
            .targets
            .iter()
            .map(|t| t.provider.name.as_str())
            .collect();
        assert_eq!(names, ["first", "second"]);
        assert_eq!(model.targets[1].upstream_name, "Second-model");
        assert_eq!(
            model.max_output_tokens, 1000,
            "the smallest limit of those served"
        );
        assert_eq!(
            model.image_input_tokens,
            Some(800),
            "the largest image bound"
        );
        assert_eq!(
            model.worst_case(1_000_000, 0),
            Money::from_micros(3_000_000),
            "held at the dearest target"
        );
        assert_eq!(model.first_provider().name, "first");

        let none = Catalog::build(&routes, &[upstream("off")]);
        assert!(
            none.model("chat")
                .is_some_and(|m| m.image_input_tokens.is_none())
        );
        let nothing = Catalog::build(&routes, &[]);
        assert!(nothing.model("chat").is_none() && nothing.models().is_empty());
    }

    #[test]
    fn a_route_kept_to_teams_is_open_to_those_alone() {
        let routes = [route(vec![target("p", 1.0, 10, None)], Some(vec![3, 5]))];
        let catalog = Catalog::build(&routes, &[upstream("p")]);
        let model = catalog.model("chat").unwrap();
        assert!(model.open_to(Some(TeamId(3))));
        assert!(!model.open_to(Some(TeamId(4))));
        assert!(
            !model.open_to(None),
            "keys outside any team are not in a chosen team"
        );
        let all = Catalog::build(
            &[route(vec![target("p", 1.0, 10, None)], None)],
            &[upstream("p")],
        );
        assert!(all.model("chat").unwrap().open_to(None));
    }
}
