// Command server is the example app's backend: one port serving the built
// Refine app, a REST API for posts and categories shaped for
// @refinedev/simple-rest, and the refine-live hub from package server at
// /live.
//
// Every REST mutation publishes the matching Refine LiveEvent from the
// server side ({channel: "resources/posts", type: "created" | "updated" |
// "deleted", payload: {ids: [id]}}), so pages stay live whoever changes the
// data, a browser or curl:
//
//	curl -X PATCH -d '{"title":"Edited with curl"}' http://127.0.0.1:8080/api/posts/1
//
// Routes:
//
//	GET    /api/{resource}            list (_start, _end, _sort, _order, id, q, field filters; X-Total-Count)
//	GET    /api/{resource}/{id}       one record
//	POST   /api/{resource}            create
//	PATCH  /api/{resource}/{id}       merge fields
//	PUT    /api/{resource}/{id}       replace fields
//	DELETE /api/{resource}/{id}       delete
//	GET    /live                      refine-live WebSocket endpoint
//	POST   /publish                   publish a LiveEvent over HTTP
//	GET    /metrics, /healthz         the hub's Prometheus metrics and health
//	GET    /*                         the app (index.html for unknown paths)
//
// The data lives in memory and starts from a seed (--seed-posts, or
// --seed-file with a JSON object {"posts": [...], "categories": [...]}).
//
// With --postgres URL the data lives in PostgreSQL instead (tables posts
// and categories, created and seeded when missing) and the REST API
// publishes nothing: the PostgreSQL change source of package
// server/pgsource turns every committed change into its event, so a row
// changed with psql updates the open lists too:
//
//	psql "$URL" -c "UPDATE posts SET title = 'Edited with psql' WHERE id = 1"
package main
