function cellValue(cell) {
  // Numbers sort as numbers: "1,000", "≈0.97", "0.02%" and budgets such as "200k" or "1.5M".
  const text = cell.textContent.trim().replace(/,/g, '').replace(/^≈/, '');
  const m = text.match(/^([-+]?[0-9.]+)([kM]?)/);
  return m ? parseFloat(m[1]) * ({k: 1e3, M: 1e6}[m[2]] || 1) : text.toLowerCase();
}
function sortTable(table, column, up) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellValue(a.cells[column]), y = cellValue(b.cells[column]);
    const order = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0)
                                          : (typeof x === 'number' ? -1 : 1);
    return up ? order : -order;
  });
  rows.forEach(row => body.appendChild(row));
  Array.from(table.tHead.rows[0].cells).forEach((th, i) => {
    th.classList.toggle('sorted-up', i === column && up);
    th.classList.toggle('sorted-down', i === column && !up);
  });
}
const tables = Array.from(document.querySelectorAll('table.sortable'));
tables.forEach(table => Array.from(table.tHead.rows[0].cells).forEach((th, i) => {
  th.addEventListener('click', () => sortTable(table, i, !th.classList.contains('sorted-up')));
}));
const asked = new URLSearchParams(location.search).get('sort');
if (asked) {
  const [t, c] = asked.split(',').map(Number);
  if (tables[t] && tables[t].tHead.rows[0].cells[c]) sortTable(tables[t], c, true);
}
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  document.body.dataset.images = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.tables = tables.length;
});
