// The PageAnchor of every Page (bearing_workbench/panels/kit/page.py): draws nothing visible and tells
// the kernel that a front end has attached (`{type: "connected"}`), so the page sends its full state
// again. A Voila page that attaches to a kernel after the panel was built may have missed updates
// sent from background threads before its views existed; this message comes once they do.
function render({ model, el }) {
  el.classList.add("bw-page-anchor");
  model.send({ type: "connected" });
}

export default { render };
