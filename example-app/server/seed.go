package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// seedData is the starting content of the in-memory tables.
type seedData struct {
	Posts      []record `json:"posts"`
	Categories []record `json:"categories"`
}

var (
	categoryNames = []string{"Announcements", "Engineering", "Design", "Community"}
	postTitles    = []string{
		"Welcome to the live demo",
		"Open this page in two windows",
		"Edits travel over one WebSocket",
		"Missed events are replayed",
		"A restart means one refetch",
		"StrictMode shares subscriptions",
		"Reconnects back off with jitter",
		"Offline tabs wait for online",
	}
	statuses = []string{"published", "draft", "rejected"}
)

// generatedSeed makes n posts spread over the fixed categories. The
// content is deterministic so that tests can predict it.
func generatedSeed(n int) seedData {
	s := seedData{}
	for i, name := range categoryNames {
		s.Categories = append(s.Categories, record{"id": i + 1, "title": name})
	}
	base := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		title := fmt.Sprintf("Post %d", i+1)
		if i < len(postTitles) {
			title = postTitles[i]
		}
		s.Posts = append(s.Posts, record{
			"id":         i + 1,
			"title":      title,
			"content":    fmt.Sprintf("Body of post %d.", i+1),
			"status":     statuses[i%len(statuses)],
			"categoryId": i%len(categoryNames) + 1,
			"createdAt":  base.Add(time.Duration(i) * time.Hour).Format(time.RFC3339),
		})
	}
	return s
}

// loadSeed reads a seed file: {"posts": [...], "categories": [...]}.
func loadSeed(path string) (seedData, error) {
	var s seedData
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("failed to read seed: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("failed to parse seed %s: %w", path, err)
	}
	return s, nil
}

// tables builds the API's tables from the seed.
func (s seedData) tables() (map[string]*table, error) {
	posts, err := newTable(s.Posts)
	if err != nil {
		return nil, fmt.Errorf("failed to load posts: %w", err)
	}
	categories, err := newTable(s.Categories)
	if err != nil {
		return nil, fmt.Errorf("failed to load categories: %w", err)
	}
	return map[string]*table{"posts": posts, "categories": categories}, nil
}
