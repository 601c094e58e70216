//! Routes over HTTP and on the request path: Owners and Admins add, edit, disable and delete
//! them through the server functions, Members and Viewers only read the list (403 on every
//! change, and nothing changes), nobody signed out reads or changes it (401), and a form that
//! cannot be used is refused with 422 naming its field, changing nothing. The gateway serves a
//! change from the very next request: a route added is callable and listed, a new price is what
//! the next request is charged, a route kept to other teams is refused to this key's team (404
//! `model_not_found`, saying so) and not listed to it, a disabled or deleted route is refused.

use crate::stub_upstream::{StubBehaviour, StubUsage};
use crate::support::gateway::{Gateway, MODEL, hello, team_month};
use domain::routes::RoutesView;
use domain::{Role, TeamId};
use http::StatusCode;

/// The route the page adds in these tests.
const ROUTE: &str = "page-mini";

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn encode(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// One target as the form posts it: provider `provider` (its id), sent `upstream`, at `input`
/// and `output` dollars per million tokens, up to 1,000 tokens out.
fn target(provider: i64, upstream: &str, input: &str, output: &str) -> Vec<(String, String)> {
    [
        ("target_provider[]", provider.to_string()),
        ("target_upstream_name[]", upstream.to_owned()),
        ("target_input_price[]", input.to_owned()),
        ("target_output_price[]", output.to_owned()),
        ("target_max_output_tokens[]", "1000".to_owned()),
        ("target_image_input_tokens[]", String::new()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The Add (or, after `id=…&`, the Edit) form: `name` sent to `targets` in order, open to
/// every team when `teams` is empty, else kept to them.
fn route_form(name: &str, targets: &[Vec<(String, String)>], teams: &[TeamId]) -> String {
    let mut pairs = vec![("name".to_owned(), name.to_owned())];
    pairs.extend(targets.iter().flatten().cloned());
    if teams.is_empty() {
        pairs.push(("team_scope".to_owned(), "all".to_owned()));
    } else {
        pairs.push(("team_scope".to_owned(), "chosen".to_owned()));
        pairs.extend(
            teams
                .iter()
                .map(|t| ("teams[]".to_owned(), t.0.to_string())),
        );
    }
    encode(&pairs)
}

async fn list(gw: &Gateway, cookie: &str) -> RoutesView {
    let (status, body, _) = gw.server.post("list_routes", "", Some(cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The id of the provider named `name`, as the form offers it.
fn provider_id(view: &RoutesView, name: &str) -> i64 {
    view.providers
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no provider {name} in {:?}", view.providers))
        .id
}

/// The id of the route named `name`.
fn route_id(view: &RoutesView, name: &str) -> i64 {
    view.rows
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no route {name}"))
        .id
}

/// Adds `form` as `cookie`; answers the new route's id.
async fn add(gw: &Gateway, cookie: &str, form: &str) -> i64 {
    let (status, body, _) = gw.server.post("add_route", form, Some(cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.trim().parse().unwrap()
}

/// Posts `form` to `endpoint` and expects it refused as a bad form: answers the field named.
async fn refused_field(gw: &Gateway, cookie: &str, endpoint: &str, form: &str) -> String {
    let (status, body, _) = gw.server.post(endpoint, form, Some(cookie)).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{endpoint} {form}: {body}"
    );
    match serde_json::from_str::<domain::Error>(&body) {
        Ok(domain::Error::Validation { field, .. }) => field,
        other => panic!("{endpoint} {form}: expected a field error, got {other:?} from {body}"),
    }
}

/// The team's month once the ledger has written what it holds behind: (spend in micro-dollars,
/// requests, reserved micro-dollars).
async fn month(gw: &Gateway, team: TeamId) -> (i64, i64, i64) {
    gw.flushed().await;
    team_month(&gw.server.db, team).await
}

/// A one-message chat request for `model`.
fn asking_for(model: &str) -> serde_json::Value {
    let mut ask = hello();
    ask["model"] = model.into();
    ask
}

#[tokio::test]
async fn only_owners_and_admins_change_routes_and_everyone_signed_in_reads_them() {
    let gw = Gateway::start().await;
    let (_, admin) = gw
        .server
        .add_person(gw.owner, "admin@example.com", Role::Admin)
        .await;
    let owner = gw.server.sign_in("owner@example.com").await;
    let view = list(&gw, &admin).await;
    assert!(view.can_change);
    let stub = provider_id(&view, "stub");
    let from_file = view.rows.iter().find(|r| r.name == MODEL).unwrap();
    assert!(
        from_file.from_file && from_file.is_served(),
        "{from_file:?}"
    );

    let id = add(
        &gw,
        &admin,
        &route_form(ROUTE, &[target(stub, "stub-upstream-mini", "1", "2")], &[]),
    )
    .await;
    let before = list(&gw, &admin).await.rows;
    assert_eq!(before.len(), 2);

    let mut cookies = vec![(Role::Owner, owner.clone()), (Role::Admin, admin.clone())];
    for (email, role) in [
        ("member@example.com", Role::Member),
        ("viewer@example.com", Role::Viewer),
    ] {
        let (_, cookie) = gw.server.add_person(gw.owner, email, role).await;
        let view = list(&gw, &cookie).await;
        assert!(!view.can_change, "{role:?}");
        // The same list; every team's usage only for those who read it all (not Members).
        let expected: Vec<_> = before
            .iter()
            .cloned()
            .map(|mut r| {
                if role == Role::Member {
                    r.usage = None;
                }
                r
            })
            .collect();
        assert_eq!(view.rows, expected, "{role:?} reads the same list");
        assert_eq!(view.shows_usage, role != Role::Member, "{role:?}");
        let edit = format!(
            "id={id}&{}",
            route_form(ROUTE, &[target(stub, "stub-upstream-mini", "9", "9")], &[])
        );
        for (endpoint, body) in [
            (
                "add_route",
                route_form("other-mini", &[target(stub, "", "1", "2")], &[]),
            ),
            ("edit_route", edit),
            ("set_route_enabled", format!("id={id}&enabled=false")),
            ("delete_route", format!("id={id}")),
        ] {
            let (status, answer, _) = gw.server.post(endpoint, &body, Some(&cookie)).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{role:?} {endpoint}: {answer}"
            );
        }
        let (status, page) = gw
            .server
            .get("/dashboard/configuration/routes", Some(&cookie))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(ROUTE) && page.contains(MODEL) && !page.contains("Add route"),
            "{role:?}"
        );
        cookies.push((role, cookie));
    }
    assert_eq!(list(&gw, &admin).await.rows, before, "nothing changed");

    // Every role reads the list; nobody signed out reads or changes it.
    for (role, cookie) in &cookies {
        let (status, body, _) = gw.server.post("list_routes", "", Some(cookie)).await;
        assert_eq!(status, StatusCode::OK, "{role:?}: {body}");
    }
    for (endpoint, body) in [
        ("list_routes", String::new()),
        (
            "add_route",
            route_form("other-mini", &[target(stub, "", "1", "2")], &[]),
        ),
        (
            "edit_route",
            format!(
                "id={id}&{}",
                route_form(ROUTE, &[target(stub, "", "9", "9")], &[])
            ),
        ),
        ("set_route_enabled", format!("id={id}&enabled=false")),
        ("delete_route", format!("id={id}")),
    ] {
        let (status, answer, _) = gw.server.post(endpoint, &body, None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "signed out {endpoint}: {answer}"
        );
    }
    assert_eq!(list(&gw, &admin).await.rows, before, "nothing changed");

    // The file's route is read-only, even for an Owner.
    let file_id = route_id(&list(&gw, &owner).await, MODEL);
    for (endpoint, body) in [
        (
            "edit_route",
            format!(
                "id={file_id}&{}",
                route_form(MODEL, &[target(stub, "stub-upstream-mini", "9", "9")], &[])
            ),
        ),
        ("set_route_enabled", format!("id={file_id}&enabled=false")),
        ("delete_route", format!("id={file_id}")),
    ] {
        let (status, answer, _) = gw.server.post(endpoint, &body, Some(&owner)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{endpoint}: {answer}");
        assert!(answer.contains("providers file"), "{endpoint}: {answer}");
    }

    // Owners and Admins change it: edited, disabled, enabled, deleted.
    let edit = format!(
        "id={id}&{}",
        route_form(ROUTE, &[target(stub, "stub-upstream-mini", "3", "6")], &[])
    );
    let (status, body, _) = gw.server.post("edit_route", &edit, Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view = list(&gw, &admin).await;
    let row = view.rows.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        (
            row.targets[0].input_micros_per_mtok,
            row.targets[0].output_micros_per_mtok
        ),
        (3_000_000, 6_000_000)
    );
    for (cookie, enabled) in [(&admin, false), (&owner, true)] {
        let (status, body, _) = gw
            .server
            .post(
                "set_route_enabled",
                &format!("id={id}&enabled={enabled}"),
                Some(cookie),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let view = list(&gw, &admin).await;
        assert_eq!(
            view.rows.iter().find(|r| r.id == id).unwrap().enabled,
            enabled
        );
    }
    let (status, body, _) = gw
        .server
        .post("delete_route", &format!("id={id}"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<String> = list(&gw, &admin)
        .await
        .rows
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, [MODEL]);
    gw.server.finish().await;
}

#[tokio::test]
async fn a_form_that_cannot_be_used_is_refused_next_to_its_field_and_changes_nothing() {
    let gw = Gateway::start().await;
    let (_, admin) = gw
        .server
        .add_person(gw.owner, "admin@example.com", Role::Admin)
        .await;
    // A second provider, made on the page and disabled.
    let spare = form(&[
        ("name", "spare"),
        ("base_url", &gw.stub.base_url()),
        ("api_key", "sk-spare-secret-0000"),
        ("timeout_secs", "30"),
    ]);
    let (status, body, _) = gw.server.post("add_provider", &spare, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let spare_id: i64 = body.trim().parse().unwrap();
    let view = list(&gw, &admin).await;
    let stub = provider_id(&view, "stub");
    assert_eq!(provider_id(&view, "spare"), spare_id);
    // A route to it while it is enabled; then it is disabled.
    let kept = add(
        &gw,
        &admin,
        &route_form("spare-mini", &[target(spare_id, "", "1", "2")], &[]),
    )
    .await;
    let (status, _, _) = gw
        .server
        .post(
            "set_provider_enabled",
            &format!("id={spare_id}&enabled=false"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = add(
        &gw,
        &admin,
        &route_form(ROUTE, &[target(stub, "", "1", "2")], &[]),
    )
    .await;
    let before = list(&gw, &admin).await.rows;
    assert_eq!(before.len(), 3);

    let good = target(stub, "", "1", "2");
    // The good target with one field typed otherwise.
    let with = |field: &str, value: &str| -> Vec<(String, String)> {
        let key = format!("target_{field}[]");
        good.iter()
            .map(|(k, v)| {
                let v = if *k == key { value } else { v.as_str() };
                (k.clone(), v.to_owned())
            })
            .collect()
    };
    // Kept to chosen teams without ticking one.
    let mut no_team_ticked = vec![
        ("name".to_owned(), "new-mini".to_owned()),
        ("team_scope".to_owned(), "chosen".to_owned()),
    ];
    no_team_ticked.extend(good.iter().cloned());
    let cases: Vec<(&str, String)> = vec![
        // Names clash in any case, with the page's routes and the file's alike.
        (
            "name",
            route_form("PAGE-Mini", std::slice::from_ref(&good), &[]),
        ),
        (
            "name",
            route_form("Stub-MINI", std::slice::from_ref(&good), &[]),
        ),
        (
            "name",
            route_form("page mini", std::slice::from_ref(&good), &[]),
        ),
        ("name", route_form("", std::slice::from_ref(&good), &[])),
        ("target1_provider", route_form("new-mini", &[], &[])),
        (
            "target1_provider",
            route_form("new-mini", &[target(spare_id, "", "1", "2")], &[]),
        ),
        (
            "target1_provider",
            route_form("new-mini", &[target(999_999, "", "1", "2")], &[]),
        ),
        (
            "target1_input_price",
            route_form("new-mini", &[with("input_price", "-1")], &[]),
        ),
        (
            "target1_output_price",
            route_form("new-mini", &[with("output_price", "cheap")], &[]),
        ),
        (
            "target1_max_output_tokens",
            route_form("new-mini", &[with("max_output_tokens", "0")], &[]),
        ),
        (
            "target1_upstream_name",
            route_form("new-mini", &[with("upstream_name", "two words")], &[]),
        ),
        (
            "target2_upstream_name",
            route_form("new-mini", &[good.clone(), good.clone()], &[]),
        ),
        (
            "target2_input_price",
            route_form(
                "new-mini",
                &[good.clone(), target(stub, "other", "-0.5", "2")],
                &[],
            ),
        ),
        ("teams", encode(&no_team_ticked)),
        (
            "teams",
            route_form("new-mini", std::slice::from_ref(&good), &[TeamId(999_999)]),
        ),
    ];
    for (field, body) in &cases {
        assert_eq!(
            refused_field(&gw, &admin, "add_route", body).await,
            *field,
            "add {body}"
        );
    }
    // The same rules hold for an edit, and a name may not be taken from another route.
    for (field, body) in [
        (
            "name",
            route_form("SPARE-mini", std::slice::from_ref(&good), &[]),
        ),
        (
            "name",
            route_form("stub-mini", std::slice::from_ref(&good), &[]),
        ),
        (
            "target1_input_price",
            route_form(ROUTE, &[with("input_price", "-1")], &[]),
        ),
        (
            "target1_provider",
            route_form(ROUTE, &[target(spare_id, "", "1", "2")], &[]),
        ),
    ] {
        let body = format!("id={id}&{body}");
        assert_eq!(
            refused_field(&gw, &admin, "edit_route", &body).await,
            field,
            "edit {body}"
        );
    }
    assert_eq!(list(&gw, &admin).await.rows, before, "nothing changed");

    // A route that no longer exists.
    for (endpoint, body) in [
        (
            "edit_route",
            format!(
                "id=999999&{}",
                route_form("gone-mini", std::slice::from_ref(&good), &[])
            ),
        ),
        ("set_route_enabled", "id=999999&enabled=false".to_owned()),
        ("delete_route", "id=999999".to_owned()),
    ] {
        let (status, answer, _) = gw.server.post(endpoint, &body, Some(&admin)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{endpoint}: {answer}");
    }

    // A route may keep a provider disabled since it was saved; only a new target must be
    // enabled. A name may change case.
    let edit = format!(
        "id={kept}&{}",
        route_form("Spare-Mini", &[target(spare_id, "", "2", "4")], &[])
    );
    let (status, body, _) = gw.server.post("edit_route", &edit, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view = list(&gw, &admin).await;
    let row = view.rows.iter().find(|r| r.id == kept).unwrap();
    assert_eq!(row.name, "Spare-Mini");
    assert_eq!(row.targets[0].input_micros_per_mtok, 2_000_000);
    assert!(
        !row.targets[0].provider_enabled && !row.is_served(),
        "{row:?}"
    );
    gw.server.finish().await;
}

#[tokio::test]
async fn the_gateway_serves_a_route_change_from_the_next_request() {
    let gw = Gateway::start().await;
    let owner = gw.server.sign_in("owner@example.com").await;
    let research = gw.team("Research", "10").await;
    let sales = gw.team("Sales", "10").await;
    let (_, key) = gw.member_key("r@example.com", research).await;
    let (_, sales_key) = gw.member_key("s@example.com", sales).await;
    gw.stub.set(StubBehaviour {
        usage: StubUsage::Fixed {
            prompt: 1_000,
            completion: 100,
        },
        ..StubBehaviour::default()
    });
    let stub = provider_id(&list(&gw, &owner).await, "stub");

    // Not a route yet: not offered.
    let (status, body) = gw.chat(&key, asking_for(ROUTE)).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");
    assert!(!gw.model_ids(&key).await.iter().any(|m| m == ROUTE));
    assert_eq!(gw.stub.requests(), 0);

    // Added: listed and callable from the next request, sent upstream under its target's name.
    let id = add(
        &gw,
        &owner,
        &route_form(ROUTE, &[target(stub, "stub-upstream-page", "1", "2")], &[]),
    )
    .await;
    let ids = gw.model_ids(&key).await;
    assert!(
        ids.iter().any(|m| m == ROUTE) && ids.iter().any(|m| m == MODEL),
        "{ids:?}"
    );
    let (status, body) = gw.chat(&key, asking_for(ROUTE)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from the stub."
    );
    assert_eq!(gw.stub.last().body["model"], "stub-upstream-page");
    // 1,000 × $1/Mtok + 100 × $2/Mtok = 1,200 µ$.
    assert_eq!(month(&gw, research).await, (1_200, 1, 0));

    // A new price is what the next request is charged; the last keeps its own.
    let edit = format!(
        "id={id}&{}",
        route_form(ROUTE, &[target(stub, "stub-upstream-page", "3", "6")], &[])
    );
    let (status, body, _) = gw.server.post("edit_route", &edit, Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = gw.chat(&key, asking_for(ROUTE)).await;
    assert_eq!(status, 200, "{body}");
    // 1,000 × $3/Mtok + 100 × $6/Mtok = 3,600 µ$.
    assert_eq!(month(&gw, research).await, (1_200 + 3_600, 2, 0));
    let view = list(&gw, &owner).await;
    let row = view.rows.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        row.usage.map(|u| (u.requests, u.spend_micros)),
        Some((2, 4_800)),
        "the page counts the route's requests and spend"
    );

    // Kept to Sales: refused to Research's key, saying why, and not listed to it; Sales' key
    // calls it. Nothing refused reaches the upstream or is charged.
    let sent = gw.stub.requests();
    let edit = format!(
        "id={id}&{}",
        route_form(
            ROUTE,
            &[target(stub, "stub-upstream-page", "3", "6")],
            &[sales]
        )
    );
    let (status, body, _) = gw.server.post("edit_route", &edit, Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = gw.chat(&key, asking_for(ROUTE)).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");
    // In the words of a model that does not exist: a key learns nothing of other teams' routes.
    assert_eq!(
        body["error"]["message"],
        format!("The model `{ROUTE}` does not exist or you do not have access to it.")
    );
    let ids = gw.model_ids(&key).await;
    assert!(
        !ids.iter().any(|m| m == ROUTE) && ids.iter().any(|m| m == MODEL),
        "{ids:?}"
    );
    assert_eq!(gw.stub.requests(), sent, "refused before the upstream");
    assert_eq!(month(&gw, research).await, (4_800, 2, 0));
    assert!(gw.model_ids(&sales_key).await.iter().any(|m| m == ROUTE));
    let (status, body) = gw.chat(&sales_key, asking_for(ROUTE)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(month(&gw, sales).await, (3_600, 1, 0));
    // The other routes stay open to Research.
    assert_eq!(gw.chat(&key, hello()).await.0, 200);

    // Disabled: refused to everyone as a model that does not exist, and not listed; enabled
    // again: served.
    let (status, body, _) = gw
        .server
        .post(
            "set_route_enabled",
            &format!("id={id}&enabled=false"),
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sent = gw.stub.requests();
    for k in [&key, &sales_key] {
        let (status, body) = gw.chat(k, asking_for(ROUTE)).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"]["code"], "model_not_found");
        assert!(!gw.model_ids(k).await.iter().any(|m| m == ROUTE));
    }
    assert_eq!(gw.stub.requests(), sent, "refused before the upstream");
    let (status, _, _) = gw
        .server
        .post(
            "set_route_enabled",
            &format!("id={id}&enabled=true"),
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gw.chat(&sales_key, asking_for(ROUTE)).await.0, 200);

    // Deleted: refused; what it was charged stays.
    let (status, body, _) = gw
        .server
        .post("delete_route", &format!("id={id}"), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = gw.chat(&sales_key, asking_for(ROUTE)).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(month(&gw, sales).await, (7_200, 2, 0));
    gw.server.finish().await;
}
