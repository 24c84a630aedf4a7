/* The decision-table editor page: dmn-js Modeler opened on the decision table, saved as the draft's file. */
(function () {
  'use strict';

  var Studio = window.Studio;
  var config = Studio.config;
  var dirty = false;
  var modeler = new window.DmnJS({ container: '#dmn-canvas', common: { keyboard: { bindTo: window } } });
  window.studioModeler = modeler;

  modeler.importXML(Studio.readJson('studio-dmn')).then(function () {
    var table = modeler.getViews().filter(function (v) { return v.type === 'decisionTable'; })[0];
    return table ? modeler.open(table) : null;
  }).then(function () {
    document.getElementById('dmn-canvas').setAttribute('data-ready', 'true');
    Studio.status('已载入' + (config.editable ? '，可编辑；随时可以保存草稿' : '（只读）'));
    var viewer = modeler.getActiveViewer();
    if (viewer) { viewer.get('eventBus').on('elements.changed', function () { dirty = true; Studio.status('有未保存的修改'); }); }
  }).catch(function (err) {
    Studio.status('决策表无法载入：' + (err && err.message ? err.message : err) + '。请在草稿页用文本方式修改。', 'error');
  });

  var button = document.getElementById('save-draft');
  if (button) {
    button.addEventListener('click', function () {
      modeler.saveXML({ format: true }).then(function (out) {
        Studio.status('正在保存…');
        return Studio.post(config.save_url, { name: config.name, dmn: out.xml });
      }).then(function (result) {
        if (result.ok) { dirty = false; Studio.status('草稿已保存', 'ok'); } else { Studio.status(Studio.errorText(result), 'error'); }
      });
    });
  }
  window.addEventListener('beforeunload', function (ev) { if (dirty) { ev.preventDefault(); ev.returnValue = ''; } });
})();
