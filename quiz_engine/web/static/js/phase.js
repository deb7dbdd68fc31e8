// How a phase frame (docs/protocol.md: lobby, question, closed, reveal, leaderboard,
// finished) changes a page's state — the same for the phone and the overlay.
export function applyPhaseFrame(state, f) {
  switch (f.type) {
    case "lobby":
      Object.assign(state, { phase: "lobby", episode: f.episode || state.episode, question: null, closed: null,
        result: null, top: [], winner: null });
      break;
    case "question":
      Object.assign(state, { phase: "question", question: f, closed: null, result: null });
      if (state.episode) state.episode = { ...state.episode, next: f.index + 1 };
      break;
    case "closed":
      Object.assign(state, { phase: "closed", closed: f });
      break;
    case "reveal":
      Object.assign(state, { phase: "revealed", result: f });
      break;
    case "leaderboard":
      Object.assign(state, { phase: "leaderboard", top: f.top || [], players: f.players || 0,
        played: f.played ?? f.players ?? 0 });
      break;
    case "finished":
      Object.assign(state, { phase: "finished", top: f.top || [], players: f.players || 0,
        played: f.played ?? f.players ?? 0, winner: f.winner || null });
      break;
  }
}
