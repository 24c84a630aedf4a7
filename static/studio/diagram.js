/* The BPMN editor page: bpmn-js Modeler with the spiffworkflow extension, our panel, save and validate. */
(function () {
  'use strict';

  var Studio = window.Studio;
  var config = Studio.config;
  var el = Studio.el;
  var state = { model: null, modelDirty: false, problems: [], dirty: false };

  try { state.model = config.model_json ? JSON.parse(config.model_json) : null; } catch (e) { state.model = null; }

  /* References the library cannot resolve (SpiffWorkflow's loopDataInputRef names a variable, not an
   * element) would be dropped on export: keep them as placeholders that write back the same text. */
  function keepUnresolved(modeler, warnings) {
    var moddle = modeler.get('moddle');
    (warnings || []).forEach(function (w) {
      if (!w.element || !w.property || !w.value || !/unresolved reference/.test(w.message || '')) { return; }
      if (!w.element.get(w.property)) { w.element.set(w.property, moddle.create('bpmn:ItemAwareElement', { id: w.value })); }
    });
  }

  function markProblems(modeler) {
    var canvas = modeler.get('canvas');
    var overlays = modeler.get('overlays');
    var registry = modeler.get('elementRegistry');
    overlays.remove({ type: 'studio-problem' });
    registry.getAll().forEach(function (e) { canvas.removeMarker(e, 'studio-has-problem'); });
    var list = document.getElementById('problem-list');
    var summary = document.getElementById('problem-summary');
    list.innerHTML = '';
    var counts = {};
    state.problems.forEach(function (p, index) {
      var element = p.element_id ? registry.get(p.element_id) : null;
      var warning = (p.severity || 'error') !== 'error';
      var item = el('li', { class: 'studio-problem' + (warning ? ' studio-problem-warning' : ''), 'data-severity': p.severity || 'error', 'data-element-id': p.element_id || '', 'data-file': p.file || '' }, [
        el('span', { class: 'studio-problem-where', text: [p.file, p.element_id].filter(Boolean).join(' · ') || '整个模型' }),
        el('span', { class: 'studio-problem-message', text: p.message })
      ]);
      if (element) {
        item.classList.add('studio-problem-linked');
        item.setAttribute('tabindex', '0');
        item.setAttribute('role', 'button');
        var go = function () {
          modeler.get('selection').select(element);
          if (canvas.scrollToElement) { canvas.scrollToElement(element); }
        };
        item.addEventListener('click', go);
        item.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { go(); } });
        canvas.addMarker(element, 'studio-has-problem');
        counts[element.id] = (counts[element.id] || []).concat([p.message]);
      }
      item.setAttribute('data-index', String(index));
      list.appendChild(item);
    });
    Object.keys(counts).forEach(function (id) {
      var badge = el('div', { class: 'studio-badge', title: counts[id].join('\n'), text: String(counts[id].length) });
      overlays.add(id, 'studio-problem', { position: { top: -10, right: 10 }, html: badge });
    });
    var errors = state.problems.filter(function (p) { return (p.severity || 'error') === 'error'; }).length;
    var warnings = state.problems.length - errors;
    summary.textContent = errors ? '发现 ' + errors + ' 处问题，修改后才能发布。' + (warnings ? '另有 ' + warnings + ' 条提醒。' : '')
      : '校验通过，可以发布。' + (warnings ? '（有 ' + warnings + ' 条提醒，请留意）' : '');
    summary.className = errors ? 'notice notice-error' : 'notice';
    summary.setAttribute('data-ok', errors ? 'false' : 'true');
  }

  function save(modeler) {
    return modeler.saveXML({ format: true }).then(function (out) {
      var body = { bpmn: out.xml };
      if (state.modelDirty && state.model) { body.model_json = JSON.stringify(state.model, null, 2) + '\n'; }
      Studio.status('正在保存…');
      return Studio.post(config.save_url, body);
    }).then(function (result) {
      if (result.ok) {
        state.modelDirty = false;
        state.dirty = false;
        Studio.status('草稿已保存（' + result.data.saved.join('、') + '）', 'ok');
      } else {
        Studio.status(Studio.errorText(result), 'error');
      }
      return result;
    });
  }

  function validate(modeler) {
    return save(modeler).then(function (saved) {
      if (!saved.ok) { return saved; }
      Studio.status('正在校验…');
      return Studio.post(config.validate_url, {}).then(function (result) {
        if (!result.ok) { Studio.status(Studio.errorText(result), 'error'); return result; }
        state.problems = result.data.problems || [];
        markProblems(modeler);
        Studio.status(result.data.ok ? '校验通过' : '校验发现问题，请查看右侧列表', result.data.ok ? 'ok' : 'error');
        var selected = modeler.get('selection').get();
        if (selected.length === 1) { modeler.get('eventBus').fire('selection.changed', { oldSelection: selected, newSelection: selected }); }
        return result;
      });
    });
  }

  // Scenario runs: the path of the chosen scenario is marked on the diagram.
  function showPath(modeler, result) {
    var canvas = modeler.get('canvas');
    var registry = modeler.get('elementRegistry');
    (state.pathMarked || []).forEach(function (id) {
      var el = registry.get(id);
      if (el) { canvas.removeMarker(el, 'studio-on-path'); canvas.removeMarker(el, 'studio-path-failed'); }
    });
    state.pathMarked = [];
    (result.path || []).forEach(function (id, index, all) {
      var el = registry.get(id);
      if (!el) { return; }
      canvas.addMarker(el, 'studio-on-path');
      if (!result.ok && index === all.length - 1) { canvas.addMarker(el, 'studio-path-failed'); }
      state.pathMarked.push(id);
    });
  }

  function runScenarios(modeler) {
    return save(modeler).then(function (saved) {
      if (!saved.ok) { return saved; }
      Studio.status('正在运行场景测试…');
      return Studio.post(config.scenarios_url, {}).then(function (result) {
        if (!result.ok) { Studio.status(Studio.errorText(result), 'error'); return result; }
        var results = result.data.results || [];
        var list = document.getElementById('scenario-list');
        list.innerHTML = '';
        var failed = results.filter(function (r) { return !r.ok; }).length;
        document.getElementById('scenario-summary').textContent = results.length
          ? results.length + ' 个场景，' + (failed ? failed + ' 个未通过' : '全部通过') + '；点击场景在图上标出其路径'
          : '本草稿没有场景测试（scenarios/*.json）';
        results.forEach(function (r, i) {
          var item = document.createElement('li');
          item.setAttribute('data-ok', r.ok ? 'true' : 'false');
          item.setAttribute('data-path', JSON.stringify(r.path || []));
          item.className = r.ok ? 'studio-scenario-ok' : 'studio-scenario-failed';
          item.textContent = (r.ok ? '✓ ' : '✗ ') + r.name + (r.ok ? '' : '：' + (r.failed_description || '') + ' ' + (r.message || ''));
          item.tabIndex = 0;
          item.addEventListener('click', function () { showPath(modeler, r); });
          list.appendChild(item);
          if (i === 0 || (!r.ok && failed)) { showPath(modeler, r); }
        });
        Studio.status(failed ? '场景测试未通过，请查看右侧列表' : '场景测试通过', failed ? 'error' : 'ok');
        return result;
      });
    });
  }

  function start(descriptor) {
    var modeler = new window.BpmnJS({
      container: '#canvas',
      keyboard: { bindTo: document },
      moddleExtensions: { spiffworkflow: descriptor },
      additionalModules: [{ translate: window.StudioTranslate.translate }]
    });
    window.studioModeler = modeler;
    var panel = window.StudioPanel.create(modeler, { config: config, state: state, container: document.getElementById('properties-panel') });
    modeler.importXML(Studio.readJson('studio-bpmn')).then(function (result) {
      keepUnresolved(modeler, result.warnings);
      modeler.get('canvas').zoom('fit-viewport');
      document.getElementById('canvas').setAttribute('data-ready', 'true');
      Studio.status('已载入' + (config.editable ? '，可编辑；随时可以保存草稿' : '（只读）'));
    }).catch(function (err) {
      Studio.status('流程图无法载入：' + (err && err.message ? err.message : err) + '。请在草稿页用文本方式修改。', 'error');
    });
    modeler.get('eventBus').on('commandStack.changed', function () {
      state.dirty = true;
      Studio.status('有未保存的修改');
    });
    var saveButton = document.getElementById('save-draft');
    if (saveButton) { saveButton.addEventListener('click', function () { save(modeler); }); }
    var validateButton = document.getElementById('validate-draft');
    if (validateButton) { validateButton.addEventListener('click', function () { validate(modeler); }); }
    var scenarioButton = document.getElementById('run-scenarios');
    if (scenarioButton) { scenarioButton.addEventListener('click', function () { runScenarios(modeler); }); }
    var publish = document.getElementById('publish-form');
    if (publish) {
      publish.addEventListener('submit', function (ev) {
        if (!state.dirty && !state.modelDirty) { return; }
        ev.preventDefault();
        save(modeler).then(function (result) { if (result.ok) { publish.submit(); } });
      });
    }
    window.addEventListener('beforeunload', function (ev) {
      if (state.dirty || state.modelDirty) { ev.preventDefault(); ev.returnValue = ''; }
    });
    return panel;
  }

  fetch(config.moddle_url, { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(start, function () {
    Studio.status('无法载入 spiffworkflow 扩展定义', 'error');
  });
})();
