// The experiment table of ExperimentHistory (bearing_workbench/panels/history_table.py).
//
// Python owns the state: `columns` ({key, label, sortable, descending_first}), `hidden` (column keys),
// `rows` ({id, status, status_note, retry, cells: {key: text}, view_href, clone_href}), `selected` (ids, in the order they
// were ticked), `order_by` and `descending`. This view draws them and writes back what the user does:
// a header click sets the sort (the kernel fetches the page again), a checkbox edits `selected`, the
// per-row buttons send {type: "action", action: "model" | "note" | "retry", id} (retry: on a run that
// may be retried; a lost run's button in the lost colour). Links open in a new tab, so the
// history page keeps its filters.

const WATCHED = ["columns", "hidden", "rows", "selected", "order_by", "descending"];

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text; // never innerHTML: names, notes and tags are user text
  }
  return node;
}

function link(href, text, title) {
  const a = element("a", "bw-ht-link", text);
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener";
  a.title = title;
  return a;
}

function render({ model, el }) {
  const root = element("div", "bw-history-table");
  el.appendChild(root);

  function setSelected(ids) {
    model.set("selected", ids);
    model.save_changes();
  }

  function header(columns, rows, selected) {
    const head = element("thead");
    const tr = element("tr");
    const all = element("input");
    all.type = "checkbox";
    all.title = "select every row of this page";
    all.className = "bw-ht-select-page";
    all.checked = rows.length > 0 && rows.every((r) => selected.has(r.id));
    all.onchange = () => {
      const ids = model.get("selected").slice();
      for (const row of rows) {
        const at = ids.indexOf(row.id);
        if (all.checked && at < 0) {
          ids.push(row.id);
        } else if (!all.checked && at >= 0) {
          ids.splice(at, 1);
        }
      }
      setSelected(ids);
    };
    const first = element("th", "bw-ht-check");
    first.appendChild(all);
    tr.appendChild(first);
    const orderBy = model.get("order_by");
    const descending = model.get("descending");
    for (const column of columns) {
      const th = element("th", column.sortable ? "bw-ht-sortable" : "");
      th.dataset.key = column.key;
      let label = column.label;
      if (column.key === orderBy) {
        label += descending ? " \u25BC" : " \u25B2";
        th.classList.add("bw-ht-sorted");
      }
      th.textContent = label;
      if (column.sortable) {
        th.title = "sort by " + column.label;
        th.onclick = () => {
          if (column.key === orderBy) {
            model.set("descending", !descending);
          } else {
            model.set("order_by", column.key);
            model.set("descending", Boolean(column.descending_first));
          }
          model.save_changes();
        };
      }
      tr.appendChild(th);
    }
    tr.appendChild(element("th", "", "actions"));
    head.appendChild(tr);
    return head;
  }

  function body(columns, rows, selected) {
    const tbody = element("tbody");
    for (const row of rows) {
      const tr = element("tr", selected.has(row.id) ? "bw-ht-selected" : "");
      tr.dataset.id = String(row.id);
      const check = element("input");
      check.type = "checkbox";
      check.checked = selected.has(row.id);
      check.title = "select #" + row.id;
      check.onchange = () => {
        const ids = model.get("selected").filter((id) => id !== row.id);
        if (check.checked) {
          ids.push(row.id);
        }
        setSelected(ids);
      };
      const first = element("td", "bw-ht-check");
      first.appendChild(check);
      tr.appendChild(first);
      for (const column of columns) {
        const td = element("td", "bw-ht-" + column.key.replace(/[^a-z0-9_]/gi, "_"), row.cells[column.key] ?? "");
        if (column.key === "status") {
          td.dataset.status = row.status;
          if (row.status_note) {
            td.title = row.status_note; // a failed or lost run: why, and what to do
          }
        }
        tr.appendChild(td);
      }
      const actions = element("td", "bw-ht-actions");
      actions.appendChild(link(row.view_href, "view", "results of #" + row.id));
      actions.appendChild(link(row.clone_href, "clone", "a new experiment from #" + row.id + "'s settings"));
      const buttons = [
        ["model", "model", "download the trained model"],
        ["note", "note", "edit notes and tags"],
      ];
      if (row.retry) {
        buttons.unshift(["retry", "retry", row.status_note || "run it again from its latest checkpoint"]);
      }
      for (const [action, text, title] of buttons) {
        const button = element("button", "bw-ht-button" + (action === "retry" && row.status === "lost" ? " bw-ht-retry" : ""), text);
        button.title = title;
        button.dataset.action = action;
        button.onclick = () => model.send({ type: "action", action, id: row.id });
        actions.appendChild(button);
      }
      tr.appendChild(actions);
      tbody.appendChild(tr);
    }
    return tbody;
  }

  function draw() {
    const hidden = new Set(model.get("hidden"));
    const columns = model.get("columns").filter((c) => !hidden.has(c.key));
    const rows = model.get("rows");
    const selected = new Set(model.get("selected"));
    const table = element("table", "bw-ht");
    table.appendChild(header(columns, rows, selected));
    table.appendChild(body(columns, rows, selected));
    root.replaceChildren(table);
    if (!rows.length) {
      root.appendChild(element("div", "bw-ht-empty", "no experiment matches these filters"));
    }
  }

  for (const name of WATCHED) {
    model.on("change:" + name, draw);
  }
  draw();
  return () => {
    for (const name of WATCHED) {
      model.off("change:" + name, draw);
    }
  };
}

export default { render };
